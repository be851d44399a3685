// The oVirt provider, one per engine. Observation is one `GET /vms?follow=...` serving every
// VM (hosts, templates and vNIC profiles are cached and refreshed every few passes);
// `watch` polls `events?from=<last index>` to wake the VMs that changed between resyncs.
// 409s (locked, in progress) and expired tokens are retried here; nothing is created twice.
import type { FlatProviderClient } from '../flat-client.ts';
import type { Logger } from 'pino';
import type { Target, VMAction } from '../../controller/core/actions.ts';
import { ProviderLockedError, ProviderNotFoundError, RefusedError, VkError } from '../../controller/core/errors.ts';
import type { Capabilities, DesiredNic, DesiredVM, Observation } from '../../controller/core/model.ts';
import {
  ADOPTED_MARKER,
  formatOwner,
  parseOwner,
  sameOwner,
  withMarker,
  type ActionContext,
  type DesiredNetwork,
  type DesiredStandaloneDisk,
  type DiskState,
  type NetworkState,
  type Progress,
  type TemplateFacts,
} from '../../controller/core/provider.ts';
import { attachmentsToKeep, deleteOvirtDisk, ensureOvirtDisk, ovirtTemplateFromVM } from './disks.ts';
import { arr, bool, nameSearch, num, obj, type Json, type OvirtClient } from './client.ts';
import { createBody, toObservedNode, toObservedVM, TO_IFACE } from './mapping.ts';
import { withUsage } from './usage.ts';

export interface OvirtProviderOptions {
  client: OvirtClient;
  logger: Logger;
  defaults?: { cluster?: string; storageDomain?: string; datacenter?: string };
  /**
   * How long a create waits for the disk copy (image_locked) before handing the worker back
   * with a locked error that says since when (default 5 s); the retry picks the VM up again.
   */
  imageLockTimeoutMs?: number;
  /** Passes between refreshes of hosts, templates and vNIC profiles (default 10). */
  slowRefreshEvery?: number;
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A VM whose disks are still being copied: the runtime retries later; this provider does not spin on it. */
export class ImageLockedError extends ProviderLockedError {
  override readonly code = 'VK_PROVIDER_IMAGE_LOCKED';
}

export class OvirtProvider implements FlatProviderClient {
  readonly capabilities: Capabilities = {
    liveCpu: true,
    liveCpuDecrease: false,
    liveCpuSocketsOnly: true,
    liveMemory: true,
    liveMemoryStepBytes: 256 * 2 ** 20,
    liveMigration: true,
    diskGrow: true,
    liveDiskAttach: true,
    guestAgent: false,
    linkedClone: false,
  };
  private slow: { hosts: Json[]; templates: Json[]; profiles: Map<string, { network: string; vlan?: number }>; networks: Json[] } | undefined;
  private passes = 0;
  private lastEvent = 0;
  private readonly o: OvirtProviderOptions;
  private readonly api: OvirtClient;

  constructor(options: OvirtProviderOptions) {
    this.o = options;
    this.api = options.client;
  }

  async close(): Promise<void> {
    await this.api.close();
  }

  /** Hosts, templates and profiles are read again next pass (a host's maintenance changed). */
  forgetLookups(): void {
    this.slow = undefined;
  }

  async inspectTemplate(name: string): Promise<TemplateFacts> {
    const t = arr((await this.api.get('/templates', { search: nameSearch(name) })).template).find((x) => x.name === name);
    if (!t) return { found: false };
    // The engine does not say whether the image has an agent or cloud-init: those stay unknown.
    // Its boot disk's size it does say.
    const attachments = arr((await this.api.get(`/templates/${String(t.id)}/diskattachments`, { follow: 'disk' })).disk_attachment);
    const boot = attachments.find((a) => bool(a.bootable)) ?? attachments[0];
    const size = boot ? num(obj(boot.disk).provisioned_size) : 0;
    return { found: String(t.status) !== 'illegal', providerID: String(t.id), ...(size ? { diskBytes: size } : {}) };
  }

  /** The VMs of the last observation (a few seconds old at most): a disk reconcile reads them, not the API. */
  private lastVms: { at: number; vms: Json[] } | undefined;

  private diskOptions() {
    const vms = async () => {
      const seen = this.lastVms;
      if (seen && Date.now() - seen.at < 3000) return seen.vms;
      return arr((await this.api.get('/vms', { follow: 'disk_attachments' })).vm);
    };
    return { api: this.api, vms, ...(this.o.defaults?.storageDomain ? { storageDomain: this.o.defaults.storageDomain } : {}), ...(this.o.pollMs ? { pollMs: this.o.pollMs } : {}) };
  }

  // What a disk step changes, the last observation no longer shows: it is not read again.
  ensureDisk(d: DesiredStandaloneDisk, ctx?: ActionContext): Promise<DiskState> {
    return ensureOvirtDisk(this.diskOptions(), d, ctx).finally(() => (this.lastVms = undefined));
  }

  deleteDisk(d: DesiredStandaloneDisk): Promise<void> {
    return deleteOvirtDisk(this.diskOptions(), d).finally(() => (this.lastVms = undefined));
  }

  async templateFromVM(target: Target, name: string, options: { onProgress?: (p: Progress) => void } = {}): Promise<TemplateFacts> {
    const facts = await ovirtTemplateFromVM(this.diskOptions(), target, name, options.onProgress ? { onProgress: options.onProgress } : {});
    this.slow = undefined; // VMs cloned from it must see the new template
    return facts;
  }

  /** A logical network with the VLAN in the data center, attached to the clusters that need it, with its vNIC profile. */
  async ensureNetwork(n: DesiredNetwork): Promise<NetworkState> {
    const dcName = n.datacenter ?? this.o.defaults?.datacenter ?? 'Default';
    const dcs = arr((await this.api.get('/datacenters')).data_center);
    const dc = dcs.find((d) => d.name === dcName);
    if (!dc) return { present: false, providerIDs: [], message: `data center ${dcName} does not exist on this engine` };
    let net = arr((await this.api.get('/networks')).network).find((x) => x.name === n.name && String(obj(x.data_center).id) === String(dc.id));
    if (net && num(obj(net.vlan).id) !== n.vlanId)
      return {
        present: false,
        providerIDs: [String(net.id)],
        message: `network ${n.name} exists with VLAN ${num(obj(net.vlan).id) || 'none'}, not ${n.vlanId}; virtkeeper does not change a network it did not create`,
      };
    if (!net) {
      net = (
        await this.api.call<Json>('POST', '/networks', {
          body: { name: n.name, data_center: { id: dc.id }, vlan: { id: n.vlanId }, ...(n.mtu ? { mtu: n.mtu } : {}), description: formatOwner(n.owner), usages: { usage: ['vm'] } },
        })
      ).data;
    }
    const clusters = arr((await this.api.get('/clusters')).cluster);
    for (const want of n.clusters ?? [{ name: this.o.defaults?.cluster ?? 'Default' }]) {
      const cl = clusters.find((c) => c.name === want.name);
      if (!cl) return { present: false, providerIDs: [String(net.id)], message: `cluster ${want.name} does not exist on this engine` };
      const attached = arr((await this.api.get(`/clusters/${String(cl.id)}/networks`)).network).some((x) => String(x.id) === String(net?.id));
      if (!attached) await this.api.call('POST', `/clusters/${String(cl.id)}/networks`, { body: { id: net.id, required: want.required ?? false } });
    }
    this.slow = undefined; // the new vNIC profile must be seen by the next VM
    return { present: true, providerIDs: [String(net.id)] };
  }

  async deleteNetwork(n: DesiredNetwork): Promise<void> {
    const net = arr((await this.api.get('/networks')).network).find((x) => x.name === n.name);
    if (!net || !sameOwner(parseOwner(String(net.description ?? '')), n.owner)) return;
    const slow = await this.lookups(true);
    const profiles = new Set([...slow.profiles.entries()].filter(([, p]) => p.network === n.name).map(([id]) => id));
    const users = arr((await this.api.get('/vms', { follow: 'nics' })).vm).filter((v) => arr(obj(v.nics).nic).some((x) => profiles.has(String(obj(x.vnic_profile).id))));
    if (users.length > 0) throw new RefusedError(`network ${n.name} is still used by ${users.map((v) => String(v.name)).join(', ')}; it stays until no VM uses it`);
    await this.api.call('DELETE', `/networks/${String(net.id)}`);
  }

  private async lookups(force = false) {
    if (!this.slow || force || this.passes % (this.o.slowRefreshEvery ?? 10) === 0) {
      const [hosts, templates, profiles, networks] = await Promise.all([
        // An engine inlines host statistics (the load) only when asked to follow them.
        this.api.get('/hosts', { follow: 'statistics' }),
        this.api.get('/templates'),
        this.api.get('/vnicprofiles'),
        this.api.get('/networks'),
      ]);
      const nets = arr(networks.network);
      const netById = new Map(nets.map((n) => [String(n.id), n]));
      this.slow = {
        hosts: arr(hosts.host),
        templates: arr(templates.template),
        networks: nets,
        profiles: new Map(
          arr(profiles.vnic_profile).map((p) => {
            const n = netById.get(String(obj(p.network).id));
            return [String(p.id), { network: String(n?.name ?? p.name), ...(n && num(obj(n.vlan).id) ? { vlan: num(obj(n.vlan).id) } : {}) }];
          }),
        ),
      };
    }
    return this.slow;
  }

  async observe(): Promise<Observation> {
    const slow = await this.lookups();
    this.passes++;
    // Usage rides along in the same call: the VMs', NICs' and disks' statistics followed.
    const vms = arr((await this.api.get('/vms', { follow: 'disk_attachments.disk.statistics,nics.reporteddevices,nics.statistics,statistics' })).vm);
    this.lastVms = { at: Date.now(), vms };
    const hostName = (id: string) => String(slow.hosts.find((h) => h.id === id)?.name ?? '') || undefined;
    const observed = vms.map((v) => withUsage(toObservedVM(v, { hostName, profile: (id) => slow.profiles.get(id) }), v));
    // The next-run configuration is read only for the VMs that have one.
    await Promise.all(
      observed
        .filter((v) => v.pendingRestart)
        .map(async (v) => {
          const next = await this.api.get(`/vms/${v.providerID}`, { next_run: 'true' }).catch(() => undefined);
          if (!next) return;
          const topo = obj(obj(next.cpu).topology);
          v.pending = { cpu: { sockets: num(topo.sockets) || 1, cores: num(topo.cores) || 1, threads: num(topo.threads) || 1 }, memoryBytes: num(next.memory) };
          const max = num(obj(next.memory_policy).max);
          if (max) v.pending.maxMemoryBytes = max;
        }),
    );
    return {
      vms: observed,
      nodes: slow.hosts.map((h) => toObservedNode(h, observed.filter((v) => v.node === h.name).length)),
      // Blank too: every engine has it, and `template: Blank` must find it like any other.
      templates: slow.templates.map((t) => ({ name: String(t.name), providerID: String(t.id) })),
      version: 'ovirt-engine-4',
    };
  }

  /** Polls the engine's events between resyncs; calls back with the VMs they name. */
  watch(onChange: (ids: string[]) => void, everyMs = 2000): () => void {
    let stopped = false;
    const tick = async () => {
      while (!stopped) {
        try {
          const evs = arr((await this.api.get('/events', this.lastEvent ? { from: String(this.lastEvent) } : { max: '1' })).event);
          const max = Math.max(this.lastEvent, ...evs.map((e) => num(e.index)));
          const first = this.lastEvent === 0;
          this.lastEvent = max;
          const ids = [...new Set(evs.map((e) => String(obj(e.vm).id ?? '')).filter(Boolean))];
          if (!first && ids.length > 0) onChange(ids);
        } catch (e) {
          this.o.logger.debug({ err: (e as Error).message }, 'events poll failed');
        }
        await sleep(everyMs);
      }
    };
    void tick();
    return () => {
      stopped = true;
    };
  }

  private async retry<T>(fn: () => Promise<T>, ctx: ActionContext): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof VkError && (e.kind === 'locked' || e.kind === 'transient')) || e instanceof ImageLockedError || i >= 5) throw e;
        ctx.onProgress?.({ message: `retrying after: ${e.message}` });
        await sleep(Math.min(4000, 200 * 2 ** i));
      }
    }
  }

  private async getVm(id: string): Promise<Json> {
    return this.api.get(`/vms/${id}`, { follow: 'disk_attachments.disk,nics' });
  }

  /** Waits until the VM satisfies `done`, reporting progress; throws with the reason if it takes too long. */
  private async waitVm(id: string, what: string, done: (vm: Json) => boolean, ctx: ActionContext, timeoutMs = 600_000): Promise<Json> {
    const since = Date.now();
    for (;;) {
      ctx.signal?.throwIfAborted();
      const vm = await this.getVm(id);
      if (done(vm)) return vm;
      if (Date.now() - since > timeoutMs)
        throw new ProviderLockedError(
          `VM ${String(vm.name)} is still ${String(vm.status)} after ${Math.round((Date.now() - since) / 1000)}s (since ${new Date(since).toISOString()}) waiting to ${what}`,
        );
      ctx.onProgress?.({ message: `${what}: ${String(vm.status)}` });
      await sleep(this.o.pollMs ?? 100);
    }
  }

  private disksReady = (vm: Json) => arr(obj(vm.disk_attachments).disk_attachment).every((a) => obj(a.disk).status !== 'locked');

  async execute(action: VMAction, ctx: ActionContext = {}): Promise<void> {
    this.lastVms = undefined;
    if (action.type === 'create') return this.retry(() => this.create(action.vm, ctx, action.resume), ctx);
    let vm: Json;
    try {
      vm = await this.getVm(action.target.providerID);
    } catch (e) {
      if (action.type === 'delete' && e instanceof ProviderNotFoundError) return;
      throw e;
    }
    if (action.type !== 'adopt' && action.type !== 'start') this.checkOwner(action.target, vm);
    const id = action.target.providerID;
    const status = () => String(vm.status);
    return this.retry(async () => {
      switch (action.type) {
        case 'adopt': {
          // Only a VM that still carries no marker is taken; marking is all adoption does.
          const have = parseOwner(String(vm.comment ?? ''));
          if (have && sameOwner(have, action.owner)) return;
          if (have) throw new RefusedError(`VM ${action.target.name} (${id}) was marked by ${have.kind} ${have.namespace ?? ''}/${have.name} since it was observed; it is not adopted`);
          await this.api.call('PUT', `/vms/${id}`, { body: { comment: `${withMarker(String(vm.comment ?? ''), action.owner, ' ')} ${ADOPTED_MARKER}` } });
          return;
        }
        case 'mark':
          await this.api.call('PUT', `/vms/${id}`, { body: { comment: withMarker(String(vm.comment ?? ''), action.owner, ' ') } });
          return;
        case 'start':
          if (status() === 'up') return;
          // The node placement chose (never one in maintenance), for this run; else the engine's scheduler picks.
          await this.api.call('POST', `/vms/${id}/start`, {
            body: { use_cloud_init: !!vm.initialization, ...(action.target.node ? { vm: { placement_policy: { hosts: { host: [{ name: action.target.node }] } } } } : {}) },
          });
          await this.waitVm(id, 'start', (v) => v.status === 'up', ctx);
          return;
        case 'stop':
          if (status() === 'down') return;
          await this.api.call('POST', `/vms/${id}/stop`, { body: {} });
          await this.waitVm(id, 'stop', (v) => v.status === 'down', ctx);
          return;
        case 'restart':
          if (status() !== 'up') await this.api.call('POST', `/vms/${id}/start`, { body: {} });
          else await this.api.call('POST', `/vms/${id}/reboot`, { body: {} });
          await this.waitVm(id, 'restart', (v) => v.status === 'up', ctx);
          return;
        case 'reconfigure': {
          const body: Json = {};
          if (action.cpu) body.cpu = { topology: { sockets: action.cpu.sockets, cores: action.cpu.cores, threads: action.cpu.threads } };
          if (action.memoryBytes) body.memory = action.memoryBytes;
          if (action.maxMemoryBytes) body.memory_policy = { max: action.maxMemoryBytes };
          await this.api.call('PUT', `/vms/${id}`, { body, ...(action.mode === 'staged' ? { query: { next_run: 'true' } } : {}) });
          return;
        }
        case 'growDisk': {
          const a = arr(obj(vm.disk_attachments).disk_attachment).find((x) => String(x.id) === action.disk);
          if (!a) throw new ProviderNotFoundError(`VM ${action.target.name} has no disk ${action.disk}`);
          if (num(obj(a.disk).provisioned_size) >= action.sizeBytes) return;
          await this.api.call('PUT', `/vms/${id}/diskattachments/${action.disk}`, { body: { disk: { provisioned_size: action.sizeBytes } } });
          await this.waitVm(id, 'grow disk', this.disksReady, ctx);
          return;
        }
        case 'attachDisk':
          await this.addDisk(id, String(vm.name), action.disk, action.index);
          await this.waitVm(id, 'attach disk', this.disksReady, ctx);
          return;
        case 'detachDisk':
          await this.api.call('DELETE', `/vms/${id}/diskattachments/${action.disk}`);
          return;
        case 'attachNic':
        case 'updateNic': {
          const nic = arr(obj(vm.nics).nic)[action.index];
          const profile = await this.profileFor(action.nic);
          if (nic) await this.api.call('PUT', `/vms/${id}/nics/${String(nic.id)}`, { body: { ...(profile ? { vnic_profile: { id: profile } } : {}), interface: action.nic.model } });
          else
            await this.api.call('POST', `/vms/${id}/nics`, {
              body: { name: action.nic.name, interface: action.nic.model, ...(profile ? { vnic_profile: { id: profile } } : {}), ...(action.nic.mac ? { mac: { address: action.nic.mac } } : {}) },
            });
          return;
        }
        case 'detachNic': {
          const nic = arr(obj(vm.nics).nic).find((n) => n.name === action.nic);
          if (nic) await this.api.call('DELETE', `/vms/${id}/nics/${String(nic.id)}`);
          return;
        }
        case 'migrate':
          await this.api.call('POST', `/vms/${id}/migrate`, { body: { host: { name: action.to } } });
          await this.waitVm(id, `migrate to ${action.to}`, (v) => v.status === 'up' && (this.slow?.hosts.find((h) => h.id === obj(v.host).id)?.name ?? '') === action.to, ctx);
          return;
        case 'setAutostart':
          return; // oVirt has no per-VM autostart; VMs are started by the engine's HA policy.
        case 'delete':
          if (bool(vm.delete_protected)) throw new RefusedError(`VM ${action.target.name} has delete protection on the engine; turn it off there first`);
          if (status() !== 'down') {
            await this.api.call('POST', `/vms/${id}/stop`, { body: {} }).catch((e: unknown) => {
              if (!(e instanceof VkError && e.kind === 'locked')) throw e;
            });
            await this.waitVm(id, 'stop before delete', (v) => v.status === 'down', ctx);
          }
          // A VirtualDisk outlives its VM: detached (kept, floating) before the VM and its own disks go.
          for (const a of attachmentsToKeep(await this.getVm(id))) {
            ctx.onProgress?.({ message: `detaching disk ${String(obj(a.disk).alias ?? a.id)} before removing VM ${action.target.name}` });
            await this.api.call('DELETE', `/vms/${id}/diskattachments/${String(a.id)}`, { query: { detach_only: 'true' } });
          }
          await this.api.call('DELETE', `/vms/${id}`);
          return;
      }
    }, ctx);
  }

  private checkOwner(target: Target, vm: Json): void {
    const have = parseOwner(String(vm.comment ?? ''));
    if (!target.owner || !sameOwner(have, target.owner))
      throw new RefusedError(`VM ${target.name} (${target.providerID}) is not owned by this resource; virtkeeper never changes a VM it did not create`);
  }

  private async profileFor(nic: DesiredNic): Promise<string | undefined> {
    let slow = await this.lookups();
    // A VLAN picks the network that carries it (the same name preferred); else the name decides.
    const find = () => {
      const all = [...slow.profiles.entries()];
      const byVlan = nic.vlan !== undefined ? all.filter(([, p]) => p.vlan === nic.vlan) : [];
      return (byVlan.find(([, p]) => p.network === nic.network) ?? byVlan[0] ?? all.find(([, p]) => p.network === nic.network))?.[0];
    };
    let id = find();
    if (!id) {
      slow = await this.lookups(true);
      id = find();
    }
    if (!id && (nic.network || nic.vlan)) throw new ProviderNotFoundError(`no vNIC profile for network ${nic.network ?? ''}${nic.vlan ? ` VLAN ${nic.vlan}` : ''} on this engine`);
    return id;
  }

  private async addDisk(vmId: string, vmName: string, disk: DesiredVM['disks'][number], index: number): Promise<void> {
    const sd = disk.storage ?? this.o.defaults?.storageDomain;
    await this.api.call('POST', `/vms/${vmId}/diskattachments`, {
      body: {
        bootable: index === 0 && disk.bootable,
        active: true,
        interface: TO_IFACE[disk.interface] ?? 'virtio',
        disk: {
          alias: `${vmName}_${disk.name}`,
          provisioned_size: disk.sizeBytes,
          format: disk.format === 'raw' ? 'raw' : 'cow',
          ...(sd ? { storage_domains: { storage_domain: [{ name: sd }] } } : {}),
        },
      },
    });
  }

  private async create(vm: DesiredVM, ctx: ActionContext, resume?: Target): Promise<void> {
    const found = arr((await this.api.get('/vms', { search: nameSearch(vm.name), follow: 'disk_attachments.disk,nics' })).vm).find((v) => v.name === vm.name);
    let current: Json;
    if (found) {
      const have = parseOwner(String(found.comment ?? ''));
      // Unmarked, it is finished only as the VM the reconciler's pending-create record points at.
      const unfinished = !have && resume?.providerID === String(found.id);
      if (!sameOwner(have, vm.owner) && !unfinished) throw new RefusedError(`a VM named ${vm.name} already exists on the engine and is not owned by ${vm.key}`);
      if (unfinished) await this.api.call('PUT', `/vms/${String(found.id)}`, { body: { comment: withMarker(String(found.comment ?? ''), vm.owner, ' ') } });
      current = found;
    } else {
      const cluster = vm.placement.cluster ?? this.o.defaults?.cluster ?? 'Default';
      ctx.onProgress?.({ percent: 0, message: `creating ${vm.name} from ${vm.template ?? 'Blank'} in cluster ${cluster}` });
      const r = await this.api.call<Json>('POST', '/vms', { body: createBody(vm, cluster), query: { ...(vm.clone === 'full' ? { clone: 'true' } : {}), correlation_id: `vk-${vm.name}` } });
      current = r.data;
    }
    const id = String(current.id);
    const created = num(current.creation_time) || Date.now();
    try {
      current = await this.waitVm(id, 'copy its disks', (v) => v.status !== 'image_locked' && this.disksReady(v), ctx, this.o.imageLockTimeoutMs ?? 5000);
    } catch (e) {
      if (e instanceof ProviderLockedError) throw new ImageLockedError(`VM ${vm.name} is still image_locked: the engine has been copying its disks since ${new Date(created).toISOString()}`);
      throw e;
    }
    const attachments = arr(obj(current.disk_attachments).disk_attachment).sort((a, b) => Number(bool(b.bootable)) - Number(bool(a.bootable)));
    for (const [i, d] of vm.disks.entries()) {
      const a = attachments[i];
      if (!a) await this.addDisk(id, vm.name, d, i);
      else if (num(obj(a.disk).provisioned_size) < d.sizeBytes) await this.api.call('PUT', `/vms/${id}/diskattachments/${String(a.id)}`, { body: { disk: { provisioned_size: d.sizeBytes } } });
    }
    const nics = arr(obj(current.nics).nic);
    for (const [i, n] of vm.nics.entries()) {
      const profile = await this.profileFor(n);
      const have = nics[i];
      if (have) {
        if (String(obj(have.vnic_profile).id ?? '') !== profile) await this.api.call('PUT', `/vms/${id}/nics/${String(have.id)}`, { body: { ...(profile ? { vnic_profile: { id: profile } } : {}) } });
      } else
        await this.api.call('POST', `/vms/${id}/nics`, {
          body: { name: n.name, interface: n.model, ...(profile ? { vnic_profile: { id: profile } } : {}), ...(n.mac ? { mac: { address: n.mac } } : {}) },
        });
    }
    if (vm.nics.length > 0) for (const extra of nics.slice(vm.nics.length)) await this.api.call('DELETE', `/vms/${id}/nics/${String(extra.id)}`);
    await this.waitVm(id, 'prepare its disks', this.disksReady, ctx);
    ctx.onProgress?.({ percent: 100, message: `VM ${vm.name} is ${id}` });
  }
}
