// The Proxmox VE provider. Observation is one `GET /cluster/resources` per pass (guests and
// nodes together), with a guest's config read only when its row changed, it is new, or it
// is being acted on. Clones of one template are serialised (the source holds lock `clone`);
// lock and timeout errors are retried here with backoff, and a create never clones twice.
import type { FlatProviderClient } from '../flat-client.ts';
import type { Logger } from 'pino';
import type { Target, VMAction } from '../../controller/core/actions.ts';
import { ProviderConflictError, ProviderLockedError, ProviderNotFoundError, RefusedError, VkError } from '../../controller/core/errors.ts';
import { describeOwner, type Capabilities, type DesiredDisk, type DesiredVM, type Observation, type ObservedTemplate, type ObservedVM } from '../../controller/core/model.ts';
import {
  ADOPTED_MARKER,
  isAdopted,
  parseOwner,
  sameOwner,
  withMarker,
  type ActionContext,
  type DesiredStandaloneDisk,
  type DiskState,
  type ObserveOptions,
  type OwnerRef,
  type Progress,
  type TemplateFacts,
} from '../../controller/core/provider.ts';
import { downloadImage, firstOnlineNode, proxmoxImportTemplate, proxmoxTemplateFromVM } from './templates.ts';
import { deleteProxmoxDisk, ensureProxmoxDisk, releaseVirtualDisks } from './disks.ts';
import { ensurePool } from './pools.ts';
import { poolGrantee } from '../../controller/core/tenancy.ts';
import { readGuestConfig } from './guest-config.ts';
import type { ProxmoxClient } from './client.ts';
import {
  BUS,
  configFromPending,
  configParams,
  dataDisks,
  description,
  diskValue,
  GiB,
  MAX_MEMORY_LINE,
  MiB,
  nics,
  nicValue,
  ipconfig,
  rowSignature,
  toObservedNode,
  toObservedVM,
  type PendingRow,
  type ResourceRow,
} from './mapping.ts';

export interface ProxmoxProviderOptions {
  client: ProxmoxClient;
  logger: Logger;
  defaults?: { node?: string; storage?: string; pool?: string; bridge?: string; importStorage?: string };
  /** Attempts for lock/timeout errors before they surface (default 6). */
  lockRetries?: number;
}

interface Detail {
  signature: string;
  config: Record<string, string>;
  pending: boolean;
  staged: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ProxmoxProvider implements FlatProviderClient {
  readonly capabilities: Capabilities = {
    liveCpu: false,
    liveCpuDecrease: false,
    liveCpuSocketsOnly: false,
    liveMemory: true,
    liveMigration: true,
    diskGrow: true,
    liveDiskAttach: true,
    guestAgent: true,
    linkedClone: true,
    poolAcls: true,
  };
  private readonly details = new Map<string, Detail>();
  private readonly ips = new Map<string, string[]>();
  private readonly ipFetching = new Set<string>();
  private readonly cloneQueues = new Map<string, Promise<unknown>>();
  private readonly diskScans = new Map<string, number>();
  /** The guests of the last observation: disk reconciles in the same pass read them, not the API. */
  private lastGuests: { at: number; rows: ResourceRow[] } | undefined;
  private readonly o: ProxmoxProviderOptions;
  private readonly api: ProxmoxClient;

  constructor(options: ProxmoxProviderOptions) {
    this.o = options;
    this.api = options.client;
  }

  async close(): Promise<void> {
    await this.api.close();
  }

  async inspectTemplate(name: string): Promise<TemplateFacts> {
    const rows = await this.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
    const row = rows.find((r) => r.template === 1 && (r.name === name || String(r.vmid) === name));
    if (!row) return { found: false };
    const config = await readGuestConfig(this.api, row.node, row.vmid);
    const disks = dataDisks(config);
    return {
      found: true,
      providerID: row.id,
      node: row.node,
      guestAgent: /^(1|enabled=1)/.test(config.agent ?? '0'),
      cloudInit: Object.entries(config).some(([k, v]) => /^(ide|scsi|sata)\d+$/.test(k) && v.includes('cloudinit')),
      ...(disks[0] ? { diskBytes: disks[0].sizeBytes } : {}),
    };
  }

  ensureDisk(d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<DiskState> {
    // A VM that is locked (a clone or config task running) is waited for, as for VM actions.
    // The first attempt may use the last observation's list (a few seconds old at most); a retry
    // after a lock reads it afresh.
    let attempt = 0;
    const guests = async () => {
      const seen = this.lastGuests;
      if (attempt++ === 0 && seen && Date.now() - seen.at < 3000) return seen.rows;
      return this.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
    };
    // (The list holds names, nodes and locks, which a disk step leaves as they were; a VM action clears it.)
    return this.withLockRetry(() => ensureProxmoxDisk({ api: this.api, defaultStorage: this.o.defaults?.storage ?? 'local-lvm', fullScans: this.diskScans, guests }, d, ctx), ctx);
  }

  deleteDisk(d: DesiredStandaloneDisk): Promise<void> {
    return deleteProxmoxDisk({ api: this.api, defaultStorage: this.o.defaults?.storage ?? 'local-lvm' }, d);
  }

  async templateFromVM(target: Target, name: string, options: { onProgress?: (p: Progress) => void } = {}): Promise<TemplateFacts> {
    await proxmoxTemplateFromVM({ api: this.api, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }, target, name);
    this.details.delete(target.providerID);
    return this.inspectTemplate(name);
  }

  async importTemplate(name: string, image: string, options: { storage?: string; node?: string; owner?: OwnerRef; onProgress?: (p: Progress) => void } = {}): Promise<TemplateFacts> {
    const w = { api: this.api, ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
    const existing = await this.inspectTemplate(name);
    if (existing.found) return existing;
    const node = options.node ?? this.o.defaults?.node ?? (await firstOnlineNode(this.api));
    // A URL is first downloaded by the node itself into its import store (`local` unless set).
    const source = /^https?:\/\//i.test(image) ? await downloadImage(w, image, node, this.o.defaults?.importStorage ?? 'local') : image;
    await proxmoxImportTemplate(w, { name, image: source, owner: options.owner ?? { kind: 'VMTemplate', name }, storage: options.storage ?? this.o.defaults?.storage ?? 'local-lvm', node });
    return this.inspectTemplate(name);
  }

  ensureNetwork(n: import('../../controller/core/provider.ts').DesiredNetwork) {
    return ensureProxmoxNetwork(this.api, n);
  }

  deleteNetwork(n: import('../../controller/core/provider.ts').DesiredNetwork) {
    return deleteProxmoxNetwork(this.api, n);
  }

  // ---- observation -------------------------------------------------------------------

  async observe(options: ObserveOptions = {}): Promise<Observation> {
    const rows = await this.api.get<ResourceRow[]>('/cluster/resources');
    this.lastGuests = { at: Date.now(), rows: rows.filter((r) => r.type === 'qemu') };
    const refresh = new Set(options.refresh ?? []);
    const guests = rows.filter((r) => r.type === 'qemu');
    const seen = new Set<string>();
    // This pass's details, taken when decided (a cached entry) or read: an action that drops a
    // cache entry while the reads run must not leave a guest of this pass without its config,
    // which would show virtkeeper's own VM with no marker (refused as foreign).
    const pass = new Map<string, Detail>();
    const gone = new Set<string>();
    const reads: Promise<void>[] = [];
    for (const row of guests) {
      seen.add(row.id);
      if (row.template === 1) continue;
      const sig = rowSignature(row);
      const cached = this.details.get(row.id);
      if (cached && cached.signature === sig && !refresh.has(row.id)) {
        pass.set(row.id, cached);
        continue;
      }
      reads.push(
        this.readDetail(row).then(
          (d) => void pass.set(row.id, d),
          (e: unknown) => {
            // A guest that vanished (or moved) between the list and the read: its marker is unknown
            // in this pass, which is neither "ours" nor "foreign".
            if (!(e instanceof ProviderNotFoundError)) throw e;
            gone.add(row.id);
          },
        ),
      );
    }
    await Promise.all(reads);
    for (const id of this.details.keys()) if (!seen.has(id)) this.details.delete(id);
    const vms: ObservedVM[] = [];
    const templates: ObservedTemplate[] = [];
    for (const row of guests) {
      if (row.template === 1) {
        templates.push({ name: row.name ?? String(row.vmid), providerID: row.id, node: row.node });
        vms.push(toObservedVM(row, undefined, []));
        continue;
      }
      const d = pass.get(row.id);
      if (row.status !== 'running') this.ips.delete(row.id);
      else if (!this.ips.has(row.id) && d?.config.agent?.startsWith('1')) this.fetchIPs(row);
      vms.push({ ...toObservedVM(row, d, this.ips.get(row.id) ?? []), ...(gone.has(row.id) ? { ownerUnknown: true } : {}) });
    }
    const nodes = rows.filter((r) => r.type === 'node').map((n) => toObservedNode(n, guests.filter((g) => g.node === n.node && g.template !== 1).length));
    return { vms, nodes, templates, version: 'proxmox-ve' };
  }

  private async readDetail(row: ResourceRow): Promise<Detail> {
    const pending = await this.api.get<PendingRow[]>(`/nodes/${row.node}/qemu/${row.vmid}/pending`);
    const { config, pending: hasPending, staged } = configFromPending(pending);
    const detail = { signature: rowSignature(row), config, pending: hasPending, staged };
    this.details.set(row.id, detail);
    return detail;
  }

  /** Guest-agent addresses, fetched in the background: observation never waits on an agent. */
  private fetchIPs(row: ResourceRow): void {
    if (this.ipFetching.has(row.id)) return;
    this.ipFetching.add(row.id);
    void this.api
      .get<{ result: { name: string; 'ip-addresses'?: { 'ip-address': string; 'ip-address-type': string }[] }[] }>(`/nodes/${row.node}/qemu/${row.vmid}/agent/network-get-interfaces`)
      .then((r) => {
        const ips = r.result.filter((i) => i.name !== 'lo').flatMap((i) => (i['ip-addresses'] ?? []).filter((a) => a['ip-address-type'] === 'ipv4').map((a) => a['ip-address']));
        if (ips.length > 0) this.ips.set(row.id, ips);
      })
      .catch(() => undefined)
      .finally(() => this.ipFetching.delete(row.id));
  }

  // ---- actions -----------------------------------------------------------------------

  async execute(action: VMAction, ctx: ActionContext = {}): Promise<void> {
    this.lastGuests = undefined;
    if (action.type === 'create') return this.withLockRetry(() => this.create(action.vm, action.node, ctx, action.resume), ctx);
    let located: Awaited<ReturnType<ProxmoxProvider['locate']>>;
    try {
      located = await this.locate(action.target);
    } catch (e) {
      if (action.type === 'delete' && e instanceof ProviderNotFoundError) return;
      throw e;
    }
    const { vmid, node, config } = located;
    if (action.type !== 'adopt' && action.type !== 'start') this.checkOwner(action.target, config);
    const path = `/nodes/${node}/qemu/${vmid}`;
    const wait = (upid: string) => this.api.waitForTask(upid, { ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const status = async () => (await this.api.get<{ status: string }>(`${path}/status/current`)).status;
    // Idempotent power steps: a start (stop) that fails because the VM got there meanwhile (a task
    // of an earlier pass, another client: "VM 243 already running") has done what was asked.
    const reaching = async (want: string, act: () => Promise<void>) => {
      try {
        await act();
      } catch (e) {
        if ((await status().catch(() => undefined)) !== want) throw e;
      }
    };
    const run = async (fn: () => Promise<void>) => {
      await this.withLockRetry(fn, ctx);
      this.details.delete(action.target.providerID);
    };
    switch (action.type) {
      case 'adopt':
        return run(async () => {
          // Only a VM that still carries no marker is taken; marking is all adoption does.
          const have = parseOwner(config.description);
          if (have && sameOwner(have, action.owner)) return;
          if (have)
            throw new RefusedError(`VM ${action.target.name} (${action.target.providerID}) was marked by ${have.kind} ${have.namespace ?? ''}/${have.name} since it was observed; it is not adopted`);
          const tags = [...new Set(['virtkeeper', ...(config.tags ?? '').split(/[;,]/).filter(Boolean)])].join(';');
          await wait(await this.api.post<string>(`${path}/config`, { description: `${description(action.vm)}\n${ADOPTED_MARKER}\n${config.description ?? ''}`.trim(), tags }));
        });
      case 'mark':
        return run(async () => {
          await wait(await this.api.post<string>(`${path}/config`, { description: withMarker(config.description, action.owner) }));
        });
      case 'start':
        return run(async () => {
          if ((await status()) !== 'running') await reaching('running', async () => wait(await this.api.post<string>(`${path}/status/start`)));
        });
      case 'stop':
        return run(async () => {
          if ((await status()) === 'running') await reaching('stopped', async () => wait(await this.api.post<string>(`${path}/status/stop`)));
        });
      case 'restart':
        return run(async () => {
          if ((await status()) === 'running') await wait(await this.api.post<string>(`${path}/status/reboot`));
          else await wait(await this.api.post<string>(`${path}/status/start`));
        });
      case 'reconfigure':
        return run(async () => {
          const p: Record<string, string> = {};
          if (action.cpu) {
            p.sockets = String(action.cpu.sockets);
            p.cores = String(action.cpu.cores * action.cpu.threads);
          }
          if (action.memoryBytes) p.memory = String(Math.ceil(action.memoryBytes / MiB));
          if (action.maxMemoryBytes) {
            const d = (config.description ?? '').split('\n').filter((l) => !l.startsWith(MAX_MEMORY_LINE));
            d.splice(1, 0, `${MAX_MEMORY_LINE}${action.maxMemoryBytes}`);
            p.description = d.join('\n');
          }
          await wait(await this.api.post<string>(`${path}/config`, p));
        });
      case 'growDisk':
        return run(async () => {
          // By slot name: the plan's indexes skip standalone disks (VirtualDisks) that the config lists.
          const disk = dataDisks(config).find((x) => x.name === action.disk);
          if (!disk) throw new ProviderNotFoundError(`VM ${action.target.name} has no disk ${action.disk}`);
          if (disk.sizeBytes >= action.sizeBytes) return;
          const size = action.sizeBytes % GiB === 0 ? `${action.sizeBytes / GiB}G` : `${Math.ceil(action.sizeBytes / MiB)}M`;
          const r = await this.api.put<string | null>(`${path}/resize`, { disk: disk.name, size });
          if (r) await wait(r);
        });
      case 'attachDisk':
        return run(async () => {
          if (dataDisks(config).filter((x) => !x.standalone)[action.index]) return;
          await wait(await this.api.post<string>(`${path}/config`, { [this.freeSlot(config, action.disk)]: this.newDisk(action.disk) }));
        });
      case 'detachDisk':
        return run(async () => {
          const disk = dataDisks(config).find((x) => x.name === action.disk);
          if (!disk || disk.standalone) return;
          await wait(await this.api.post<string>(`${path}/config`, { delete: disk.name }));
          // The detached volume becomes unusedN; it belongs to this VM, so it goes too.
          const after = await readGuestConfig(this.api, node, vmid);
          const unused = Object.entries(after).find(([k, v]) => /^unused\d+$/.test(k) && v.includes(`vm-${vmid}-`));
          if (unused) await wait(await this.api.post<string>(`${path}/config`, { delete: unused[0] }));
        });
      case 'attachNic':
      case 'updateNic':
        return run(async () => {
          const existing = nics(config)[action.index];
          const key = existing?.name ?? `net${action.index}`;
          const p: Record<string, string> = { [key]: nicValue(action.nic, existing?.mac) };
          const ip = ipconfig(action.nic);
          if (ip) p[`ipconfig${key.slice(3)}`] = ip;
          await wait(await this.api.post<string>(`${path}/config`, p));
        });
      case 'detachNic':
        return run(async () => {
          const existing = nics(config)[action.index];
          if (existing) await wait(await this.api.post<string>(`${path}/config`, { delete: existing.name }));
        });
      case 'migrate':
        return run(async () => {
          if (node === action.to) return;
          const online = (await status()) === 'running';
          await wait(await this.api.post<string>(`${path}/migrate`, { target: action.to, ...(online ? { online: 1 } : {}), 'with-local-disks': 1 }));
        });
      case 'setAutostart':
        return run(async () => {
          await wait(await this.api.post<string>(`${path}/config`, { onboot: action.enabled ? 1 : 0 }));
        });
      case 'delete':
        return run(async () => {
          if ((await status()) === 'running') await wait(await this.api.post<string>(`${path}/status/stop`));
          // A VirtualDisk outlives its VM: detached first, so that only the VM's own disks go.
          await releaseVirtualDisks(this.api, { node, vmid, name: action.target.name }, await readGuestConfig(this.api, node, vmid), ctx);
          await wait(await this.api.delete<string>(path, { purge: 1, 'destroy-unreferenced-disks': 1 }));
        });
    }
  }

  async exec(target: Target, command: string[], options: { input?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const { vmid, node, config } = await this.locate(target);
    // Nothing runs in a VM whose marker does not name this resource: ids are reused.
    this.checkOwner(target, config);
    const path = `/nodes/${node}/qemu/${vmid}/agent`;
    const { pid } = await this.api.post<{ pid: number }>(`${path}/exec`, { command, ...(options.input !== undefined ? { 'input-data': options.input } : {}) });
    const started = Date.now();
    for (;;) {
      options.signal?.throwIfAborted();
      const st = await this.api.get<{ exited: number; exitcode?: number; 'out-data'?: string; 'err-data'?: string }>(`${path}/exec-status`, { pid });
      if (st.exited) return { exitCode: st.exitcode ?? 0, stdout: st['out-data'] ?? '', stderr: st['err-data'] ?? '' };
      if (options.timeoutMs && Date.now() - started > options.timeoutMs) throw new ProviderLockedError(`command still running in ${target.name} after ${options.timeoutMs} ms (pid ${pid})`);
      await sleep(Math.min(1000, Math.max(50, (Date.now() - started) / 10)));
    }
  }

  private freeSlot(config: Record<string, string>, disk: DesiredDisk): string {
    const bus = BUS[disk.interface] ?? 'scsi';
    for (let i = 0; i < 31; i++) if (!(`${bus}${i}` in config)) return `${bus}${i}`;
    throw new ProviderConflictError(`no free ${bus} slot`);
  }

  private newDisk(disk: DesiredDisk): string {
    const storage = disk.storage ?? this.o.defaults?.storage ?? 'local-lvm';
    return diskValue(storage, Math.max(1, Math.ceil(disk.sizeBytes / GiB)), disk.format ? { format: disk.format } : {});
  }

  /** Finds a guest by its providerID (`qemu/104`) wherever it runs now, with its config. */
  private async locate(target: Target): Promise<{ vmid: number; node: string; config: Record<string, string> }> {
    const vmid = Number(target.providerID.split('/')[1]);
    const rows = await this.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
    const row = rows.find((r) => r.vmid === vmid);
    if (!row) {
      throw new ProviderNotFoundError(`VM ${target.name} (${target.providerID}) does not exist`);
    }
    const config = await readGuestConfig(this.api, row.node, vmid);
    return { vmid, node: row.node, config };
  }

  private checkOwner(target: Target, config: Record<string, string>): void {
    const have = toObservedVM({ id: target.providerID, type: 'qemu', node: '' }, { config, pending: false }, []).owner;
    if (!target.owner || !sameOwner(have, target.owner)) {
      throw new RefusedError(
        `VM ${target.name} (${target.providerID}) is not owned by ${target.owner ? describeOwner(target.owner) : 'this resource'}${have ? ` but by ${describeOwner(have)}` : ''}; virtkeeper never changes a VM it did not create`,
      );
    }
  }

  /** Retries lock and config-lock timeouts with backoff; they are normal on a busy cluster. */
  private async withLockRetry<T>(fn: () => Promise<T>, ctx: ActionContext): Promise<T> {
    const attempts = this.o.lockRetries ?? 6;
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (e) {
        const retry = e instanceof VkError && (e.kind === 'locked' || e.kind === 'transient') && i < attempts - 1;
        if (!retry) throw e;
        ctx.onProgress?.({ message: `retrying after: ${(e as Error).message}` });
        this.o.logger.debug({ attempt: i + 1, code: (e as VkError).code }, `retrying: ${(e as Error).message}`);
        await sleep(Math.min(5000, 150 * 2 ** i) * (0.75 + Math.random() * 0.5));
      }
    }
  }

  /** Runs clones of one source one after another: the source holds lock `clone` while copying. */
  private serialise<T>(source: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.cloneQueues.get(source) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.cloneQueues.set(
      source,
      next.catch(() => undefined),
    );
    return next;
  }

  private async findByName(name: string): Promise<{ row: ResourceRow; config: Record<string, string> } | undefined> {
    const rows = await this.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
    const row = rows.find((r) => r.name === name && r.template !== 1);
    if (!row) return undefined;
    try {
      return { row, config: await readGuestConfig(this.api, row.node, row.vmid) };
    } catch (e) {
      if (e instanceof ProviderNotFoundError) return undefined;
      throw e;
    }
  }

  private async create(vm: DesiredVM, node: string | undefined, ctx: ActionContext, resume?: Target): Promise<void> {
    const wait = (upid: string) => this.api.waitForTask(upid, { ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    let existing = await this.findByName(vm.name);
    if (existing) {
      const have = toObservedVM(existing.row, { config: existing.config, pending: false }, []);
      // An unmarked VM is finished (the configuration below writes the marker) only when it is
      // the one the reconciler's pending-create record points at.
      const unfinished = !have.owner && resume?.providerID === existing.row.id;
      if (!sameOwner(have.owner, vm.owner) && !unfinished) throw new RefusedError(`a VM named ${vm.name} already exists (${existing.row.id}) and is not owned by ${vm.key}`);
      if (existing.row.lock) throw new ProviderLockedError(`VM ${vm.name} is still being created (lock ${existing.row.lock})`);
    }
    if (!existing) {
      const params = configParams(vm);
      const rows = await this.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
      const template = vm.template ? rows.find((r) => r.template === 1 && (r.name === vm.template || String(r.vmid) === vm.template)) : undefined;
      if (vm.template && !template) throw new ProviderNotFoundError(`template ${vm.template} does not exist`);
      const target = node ?? this.o.defaults?.node ?? template?.node ?? rows[0]?.node ?? 'pve1';
      const pool = vm.pool ?? this.o.defaults?.pool;
      const grantee = pool ? poolGrantee({ ...vm, pool }) : undefined;
      // Before the clone: a pool that cannot be used refuses the VM with nothing made.
      if (pool) await ensurePool(this.api, { pool, namespace: vm.owner.namespace ?? 'default', ...(grantee ? { grantee } : {}) });
      if (template) {
        // A linked clone on local storage stays on the template's node, as Proxmox requires.
        const onNode = vm.clone === 'linked' ? template.node : target;
        await this.serialise(template.id, async () => {
          // Re-check under the queue: an earlier attempt may have made the VM already.
          if (await this.findByName(vm.name)) return;
          const newid = Number(await this.api.get<string>('/cluster/nextid'));
          ctx.onProgress?.({ percent: 0, message: `cloning ${vm.template} as ${newid} on ${onNode}` });
          const upid = await this.api.post<string>(`/nodes/${template.node}/qemu/${template.vmid}/clone`, {
            newid,
            name: vm.name,
            full: vm.clone === 'full' ? 1 : 0,
            target: onNode,
            description: params.description,
            ...(vm.clone === 'full' && (vm.disks[0]?.storage ?? this.o.defaults?.storage) ? { storage: vm.disks[0]?.storage ?? this.o.defaults?.storage } : {}),
            ...(pool ? { pool } : {}),
          });
          await wait(upid);
        });
      } else {
        const newid = Number(await this.api.get<string>('/cluster/nextid'));
        const disks = Object.fromEntries(vm.disks.map((d, i) => [`${BUS[d.interface] ?? 'scsi'}${i}`, this.newDisk(d)]));
        await wait(await this.api.post<string>(`/nodes/${target}/qemu`, { vmid: newid, ...params, ...disks, scsihw: 'virtio-scsi-single', ...(pool ? { pool } : {}) }));
      }
      existing = await this.findByName(vm.name);
      if (!existing) throw new ProviderConflictError(`VM ${vm.name} was not found after its creation task finished`);
    }
    // Configure (idempotent: a half-made VM is finished here on a retry).
    const path = `/nodes/${existing.row.node}/qemu/${existing.row.vmid}`;
    const params = configParams(vm);
    const current = existing.config;
    // A NIC keeps the MAC it got at clone time unless the spec names one.
    vm.nics.forEach((n, i) => {
      const mac = /=([0-9A-Fa-f:]{17})/.exec(current[`net${i}`] ?? '')?.[1];
      params[`net${i}`] = nicValue(n, mac);
    });
    // A VM adopted earlier and found here again keeps its adopted marker and its unlisted NICs.
    const adopted = isAdopted(current.description);
    if (adopted) params.description = `${params.description}\n${ADOPTED_MARKER}`;
    const changes = Object.fromEntries(Object.entries(params).filter(([k, v]) => current[k] !== v));
    const extraNics = vm.nics.length > 0 && !adopted ? Object.keys(current).filter((k) => /^net\d+$/.test(k) && Number(k.slice(3)) >= vm.nics.length) : [];
    if (Object.keys(changes).length > 0 || extraNics.length > 0)
      await wait(await this.api.post<string>(`${path}/config`, { ...changes, ...(extraNics.length ? { delete: extraNics.join(',') } : {}) }));
    const disks = dataDisks(current);
    for (const [i, d] of vm.disks.entries()) {
      const have = disks[i];
      if (!have) {
        const cfg = configFromPending(await this.api.get<PendingRow[]>(`${path}/pending`)).config;
        await wait(await this.api.post<string>(`${path}/config`, { [this.freeSlot(cfg, d)]: this.newDisk(d) }));
      } else if (have.sizeBytes < d.sizeBytes) {
        const size = d.sizeBytes % GiB === 0 ? `${d.sizeBytes / GiB}G` : `${Math.ceil(d.sizeBytes / MiB)}M`;
        const r = await this.api.put<string | null>(`${path}/resize`, { disk: have.name, size });
        if (r) await wait(r);
      }
    }
    this.details.delete(existing.row.id);
    ctx.onProgress?.({ percent: 100, message: `VM ${vm.name} is ${existing.row.id}` });
  }
}

type SdnZone = { zone: string; type: string; bridge?: string };
type SdnVnet = { vnet: string; zone: string; tag?: number; alias?: string };

/** VLANs on Proxmox: a VLAN-aware bridge on every listed node, or an SDN vnet with the tag in a VLAN zone. */
export async function ensureProxmoxNetwork(api: ProxmoxClient, n: import('../../controller/core/provider.ts').DesiredNetwork): Promise<import('../../controller/core/provider.ts').NetworkState> {
  if (n.sdn) {
    const zones = await api.get<SdnZone[]>('/cluster/sdn/zones');
    let changed = false;
    if (!zones.some((z) => z.zone === n.sdn?.zone)) {
      await api.post('/cluster/sdn/zones', { zone: n.sdn.zone, type: 'vlan', bridge: n.bridge ?? 'vmbr0' });
      changed = true;
    }
    const vnets = await api.get<SdnVnet[]>('/cluster/sdn/vnets');
    const have = vnets.find((v) => v.vnet === n.sdn?.vnet);
    if (have && have.tag !== n.vlanId)
      return { present: false, providerIDs: [`sdn/${have.vnet}`], message: `SDN vnet ${have.vnet} exists with tag ${have.tag ?? 'none'}, not ${n.vlanId}; it is not changed by virtkeeper` };
    if (!have) {
      await api.post('/cluster/sdn/vnets', { vnet: n.sdn.vnet, zone: n.sdn.zone, tag: n.vlanId, alias: vnetAlias(n) });
      changed = true;
    }
    if (changed) await api.waitForTask(await api.put<string>('/cluster/sdn'));
    return { present: true, providerIDs: [`sdn/${n.sdn.vnet}`] };
  }
  const bridge = (n.bridge ?? 'vmbr0').split('.')[0] ?? 'vmbr0';
  const nodes = n.nodes ?? (await api.get<{ node: string }[]>('/nodes')).map((x) => x.node);
  const lacking: string[] = [];
  for (const node of nodes) {
    const ifs = await api.get<{ iface: string; type: string; bridge_vlan_aware?: number }[]>(`/nodes/${node}/network`);
    const br = ifs.find((i) => i.iface === bridge && i.type === 'bridge');
    if (!br) lacking.push(`${node} (no bridge ${bridge})`);
    else if (!br.bridge_vlan_aware) lacking.push(`${node} (bridge ${bridge} is not VLAN-aware)`);
  }
  return lacking.length === 0
    ? { present: true, providerIDs: nodes.map((x) => `${x}/${bridge}`) }
    : { present: false, providerIDs: [], message: `VLAN ${n.vlanId} needs a VLAN-aware ${bridge} on: ${lacking.join(', ')}` };
}

/** The vnet's alias is its marker (an alias allows only `[\w .-]`, 64 characters): the resource and the controller instance. */
function vnetAlias(n: import('../../controller/core/provider.ts').DesiredNetwork): string {
  return `virtkeeper ${n.key}${n.owner.instance ? `@${n.owner.instance}` : ''}`.slice(0, 64).replace(/[^\w .-]/g, '-');
}

/** Made by this controller instance, or before instances were written (that alias, exactly). */
function vnetOwned(alias: string | undefined, n: import('../../controller/core/provider.ts').DesiredNetwork): boolean {
  const legacy = `virtkeeper ${n.key}`.slice(0, 64).replace(/[^\w .-]/g, '-');
  return alias === vnetAlias(n) || alias === legacy;
}

export async function deleteProxmoxNetwork(api: ProxmoxClient, n: import('../../controller/core/provider.ts').DesiredNetwork): Promise<void> {
  if (!n.sdn) return; // a host bridge is never removed: virtkeeper only verified it
  const vnets = await api.get<SdnVnet[]>('/cluster/sdn/vnets');
  const have = vnets.find((v) => v.vnet === n.sdn?.vnet);
  if (!have || !vnetOwned(have.alias, n)) return;
  // Never remove a vnet a guest still uses.
  const rows = (await api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' })).filter((r) => r.template !== 1);
  for (const r of rows) {
    // A config answers integers and booleans as JSON numbers; a NIC is a property string.
    const cfg = await api.get<Record<string, string | number>>(`/nodes/${r.node}/qemu/${r.vmid}/config`);
    if (Object.entries(cfg).some(([k, v]) => /^net\d+$/.test(k) && String(v).includes(`bridge=${have.vnet}`))) {
      throw new RefusedError(`SDN vnet ${have.vnet} is still used by VM ${r.name ?? r.vmid}; it stays until no VM uses it`);
    }
  }
  await api.delete(`/cluster/sdn/vnets/${have.vnet}`);
  await api.waitForTask(await api.put<string>('/cluster/sdn'));
}
