// Making a VM on libvirt, crash-safe and without taking anything it cannot prove is its own:
// the domain is defined first with a record of the volumes it will own, marked `creating`
// (observed as incomplete); then the volumes the record lists are made; then the mark goes. A
// create cut short is finished where it began by the next create, which trusts only the
// volumes that record names; a volume of one of those names already there otherwise is
// someone else's and refused.
import { randomUUID } from 'node:crypto';
import type { Target } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, ProviderTransientError, RefusedError } from '../../controller/core/errors.ts';
import type { DesiredVM } from '../../controller/core/model.ts';
import { sameOwner, type ActionContext } from '../../controller/core/provider.ts';
import { buildSeedIso, seedFiles, wantsSeed } from './cloud-init.ts';
import { templateHost, type LibvirtContext } from './context.ts';
import { ownerVolumeName } from './disk-owner.ts';
import { domainXml, NS, ownedVolumes, ownerElementXml, parseDomain, seedVolumeName, volumeName, volumeXml, type DomainSpec, type ParsedDomain } from './domain-xml.ts';
import { isActive, uuidText } from './hosts.ts';
import { assertTemplateVolume, hostClaims } from './ownership.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import { exists, MetadataType, orAbsent, type StoragePool } from './rpc/protocol.ts';
import { templateOn } from './templates.ts';
import { affectFlags } from './vm-disks.ts';

export interface CreateOptions {
  node?: string | undefined;
  actx: ActionContext;
  /** The reconciler's pending-create record: an unmarked domain of that UUID is this VM's. */
  pending?: Target;
}

export async function create(ctx: LibvirtContext, vm: DesiredVM, o: CreateOptions): Promise<void> {
  let resume: { host: string; c: LibvirtConnection; parsed: ParsedDomain } | undefined;
  for (const h of ctx.hosts.list) {
    const c = await ctx.hosts.conn(h.name).catch(() => undefined);
    // A host that cannot be asked may hold this VM: never make a second one.
    if (!c) throw new ProviderTransientError(`cannot reach host ${h.name} to check that no domain named ${vm.name} is there; VM ${vm.name} is created once every host answers`);
    const d = await orAbsent(c.lookupDomain(vm.name));
    if (!d) continue;
    const parsed = parseDomain(await c.xmlDesc(d));
    // An unmarked domain is ours only as the VM the reconciler's pending-create record points
    // at (a definition made by other means): it gets its marker, nothing else.
    if (!parsed.owner && o.pending?.providerID === uuidText(d.uuid)) {
      const { state } = await c.state(d);
      await c.setMetadata(d, { type: MetadataType.ELEMENT, xml: ownerElementXml(vm.owner), key: 'vk', uri: NS, flags: affectFlags(isActive(state)) });
      ctx.forget(o.pending.providerID);
      return;
    }
    if (!sameOwner(parsed.owner, vm.owner)) throw new RefusedError(`a domain named ${vm.name} exists on ${h.name} and is not owned by ${vm.key}`);
    // Already made: whatever the observation remembers of it (a half-made domain) is read again.
    ctx.forget(uuidText(d.uuid));
    if (!parsed.creating) return;
    resume = { host: h.name, c, parsed };
    break;
  }
  const host = resume?.host ?? o.node ?? ctx.hosts.list[0]?.name;
  if (!host) throw new ProviderNotFoundError('this Hypervisor lists no hosts');
  const c = resume?.c ?? (await ctx.hosts.conn(host));
  const vcpus = vm.cpu.sockets * vm.cpu.cores * vm.cpu.threads;
  const spec: DomainSpec = {
    vm,
    type: ctx.domainType,
    pool: ctx.pool,
    bridge: ctx.bridge,
    maxVcpus: Math.max(8, vcpus * 2),
    uuid: resume?.parsed.uuid ?? randomUUID(),
    ...(wantsSeed(vm) ? { seedVolume: seedVolumeName(vm.name) } : {}),
  };
  const proven = new Set((resume?.parsed.owned ?? []).map((v) => `${v.pool}/${v.name}`));
  const present = new Set<string>();
  for (const v of ownedVolumes(spec)) {
    const pool = await c.lookupPool(v.pool);
    if (!(await exists(c.lookupVolume(pool, v.name)))) continue;
    if (!proven.has(`${v.pool}/${v.name}`)) {
      throw new RefusedError(
        `volume ${v.name} already exists in pool ${v.pool} on ${host} and no virtkeeper VM records it as its own; virtkeeper never takes a volume it cannot prove it made: remove or rename that volume, or give the VM another name`,
      );
    }
    present.add(v.name);
  }
  const boot = vm.disks[0];
  const bootPool = boot ? await c.lookupPool(boot.storage ?? ctx.pool) : undefined;
  if (vm.template && boot && bootPool && !present.has(volumeName(vm.name, boot.name))) await assertTemplate(ctx, host, c, bootPool, vm.template);
  o.actx.onProgress?.({ message: `defining ${vm.name} on ${host}` });
  await c.defineXML(domainXml({ ...spec, creating: true }));
  for (const disk of vm.disks) {
    const pool = await c.lookupPool(disk.storage ?? ctx.pool);
    const name = volumeName(vm.name, disk.name);
    if (present.has(name)) continue;
    let backing: { path: string; format: string } | undefined;
    if (vm.template && disk === boot) {
      const tpl = await templateOn(templateHost(ctx), host, c, pool, vm.template, o.actx);
      backing = { path: await c.volumePath(tpl), format: 'qcow2' };
    }
    await c.createVolume(pool, volumeXml(name, disk.sizeBytes, backing));
  }
  if (spec.seedVolume) {
    // The NoCloud seed goes up through an RPC upload stream, so remote hosts work the same.
    // One left by a create cut short is this VM's (its record names it) and may be partial: made again.
    const pool = await c.lookupPool(ctx.pool);
    const old = present.has(spec.seedVolume) ? await orAbsent(c.lookupVolume(pool, spec.seedVolume)) : undefined;
    if (old) await c.deleteVolume(old);
    const iso = await buildSeedIso(seedFiles(vm));
    const vol = await c.createVolume(pool, volumeXml(spec.seedVolume, iso.length, undefined, 'raw'));
    await c.uploadVolume(vol, iso);
  }
  const d = await c.defineXML(domainXml(spec));
  ctx.forget(uuidText(d.uuid));
  if (vm.autostart) await c.setAutostart(d, true);
  o.actx.onProgress?.({ percent: 100, message: `${vm.name} is ${uuidText(d.uuid)}` });
}

/** The backing file of a clone must be a template volume, never a VM's or a VirtualDisk's (see ownership.ts). */
async function assertTemplate(ctx: LibvirtContext, host: string, here: LibvirtConnection, herePool: StoragePool, template: string): Promise<void> {
  const name = `${template}.qcow2`;
  // Checked where it is: on this host, or on the first host it is copied from.
  const home = ctx.hosts.list[0]?.name;
  const there = await exists(here.lookupVolume(herePool, name));
  const c = there || !home || home === host ? here : await ctx.hosts.conn(home);
  const pool = there || c === here ? herePool : await orAbsent(c.lookupPool(herePool.name));
  // No such pool on the template's home host: no template there either, and the clone fails on its own.
  if (!pool) return;
  const claims = await hostClaims(c, ctx.pool, (d) => ctx.known(d));
  const hasOwner = await exists(c.lookupVolume(pool, ownerVolumeName(template)));
  assertTemplateVolume(claims, pool.name, name, hasOwner);
}
