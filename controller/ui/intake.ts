// Request intake (the old `POST /create_vm`): an uploaded JSON request or spreadsheet becomes
// manifests through convert, each with its plan (create on which node, VLAN network created or
// reused) or its error; accepting writes the new ones into the requests folder and, when that
// is in a git repository, commits them with the request's document number.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { keyOf } from '../api/keys.ts';
import type { AnyResource, Hypervisor, VirtualMachine, VirtualNetwork, VMTemplate } from '../api/types.ts';
import { convertRows, type ConvertProblem, type RequestRow } from '../convert/request.ts';
import { readXlsx } from '../convert/xlsx.ts';
import { formatBytes } from '../api/quantity.ts';
import { normaliseVM } from '../core/desired.ts';
import { VkError } from '../core/errors.ts';
import { chooseNode } from '../core/placement.ts';
import type { ProviderConventions } from '../core/provider.ts';
import type { Inventory } from './inventory.ts';

const run = promisify(execFile);
export const MAX_UPLOAD_BYTES = 1024 * 1024;

export class IntakeError extends VkError {
  override readonly code: string = 'VK_UI_REQUEST_INVALID';
  override readonly kind = 'invalid';
}

export interface PlanRow {
  kind: string;
  namespace?: string;
  name: string;
  hypervisor?: string;
  action: 'create' | 'reuse' | 'error';
  node?: string;
  message: string;
  /** The row of the request it came from (convert's numbering), for errors. */
  row?: number;
}

export interface IntakeRequest {
  id: string;
  documentNumber?: string;
  documents: object[];
  plan: PlanRow[];
  problems: ConvertProblem[];
  /** Whether it may be accepted: no errors at all (a half request is not written). */
  acceptable: boolean;
}

export async function rowsOf(file: { filename?: string; data: Buffer }): Promise<RequestRow[]> {
  if (file.data.length === 0) throw new IntakeError('the upload is empty: attach a JSON request or a .xlsx request spreadsheet as the field jsonfile');
  const isXlsx = /\.xlsx$/i.test(file.filename ?? '') || file.data.subarray(0, 2).toString('latin1') === 'PK';
  if (isXlsx) {
    const dir = await mkdtemp(join(tmpdir(), 'vk-intake-'));
    try {
      await writeFile(join(dir, 'request.xlsx'), file.data);
      return await readXlsx(join(dir, 'request.xlsx'));
    } catch (e) {
      throw new IntakeError(`the spreadsheet cannot be read (${(e as Error).message}): upload a .xlsx file with a header row`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(file.data.toString('utf8'));
  } catch {
    throw new IntakeError('the file is neither JSON nor a .xlsx spreadsheet: upload a JSON request (an object or a list of them) or a request spreadsheet');
  }
  const rows = Array.isArray(parsed) ? parsed : [parsed];
  if (rows.length === 0 || rows.some((r) => typeof r !== 'object' || r === null || Array.isArray(r)))
    throw new IntakeError('the JSON is not a request: expected an object (or a list of objects) with vm, ovirt and meta');
  return rows as RequestRow[];
}

export interface IntakeContext {
  /** Resources declared now (the folder, or the cluster). */
  declared: readonly AnyResource[];
  inventory: Inventory;
  /**
   * The conventions of a Hypervisor type, as the VM reconciler reads them (the pool's
   * `conventions(type)`): without them a default (a disk's bus) would show other than it is made.
   */
  conventions: (type: Hypervisor['spec']['type']) => Promise<ProviderConventions>;
}

/** What planDocuments reads: the conventions resolved for every declared Hypervisor type. */
export interface PlanContext extends Omit<IntakeContext, 'conventions'> {
  conventions: ReadonlyMap<string, ProviderConventions>;
}

/** Resolves the conventions of the declared Hypervisors' types, once each. */
export async function planContext(ctx: IntakeContext): Promise<PlanContext> {
  const types = [...new Set(ctx.declared.filter((r): r is Hypervisor => r.kind === 'Hypervisor').map((h) => h.spec.type))];
  const conventions = new Map(await Promise.all(types.map(async (t) => [t, await ctx.conventions(t)] as const)));
  return { ...ctx, conventions };
}

/** The plan of converted documents against what is declared and observed. Pure. */
export function planDocuments(documents: readonly object[], problems: readonly ConvertProblem[], ctx: PlanContext): PlanRow[] {
  const rows: PlanRow[] = problems.map((p) => ({ kind: 'request row', name: `row ${p.row}`, action: 'error', message: `${p.column ? `${p.column}: ` : ''}${p.message}`, row: p.row }));
  const declaredKeys = new Set(ctx.declared.map((r) => keyOf({ kind: r.kind, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}), name: r.metadata.name })));
  const hypervisors = new Map(ctx.declared.filter((r): r is Hypervisor => r.kind === 'Hypervisor').map((h) => [h.metadata.name, h]));
  const networks = new Map(ctx.declared.filter((r): r is VirtualNetwork => r.kind === 'VirtualNetwork').map((n) => [n.metadata.name, n]));
  const templates = new Map(ctx.declared.filter((r): r is VMTemplate => r.kind === 'VMTemplate').map((t) => [t.metadata.name, t]));
  const seen = new Set<string>();
  const planned = new Map<string, Map<string, number>>();
  for (const d of documents as AnyResource[]) {
    const key = keyOf({ kind: d.kind, ...(d.metadata.namespace ? { namespace: d.metadata.namespace } : {}), name: d.metadata.name });
    const base = { kind: d.kind, ...(d.metadata.namespace ? { namespace: d.metadata.namespace } : {}), name: d.metadata.name };
    if (d.kind === 'VirtualNetwork') {
      const unknown = d.spec.hypervisors?.map((h) => h.hypervisor).filter((h) => !hypervisors.has(h)) ?? [];
      if (unknown.length) rows.push({ ...base, action: 'error', message: `unknown engine ${unknown.join(', ')}: no Hypervisor of that name is declared` });
      else if (declaredKeys.has(key)) rows.push({ ...base, action: 'reuse', message: `VLAN ${d.spec.vlanId}: the network is declared already and reused` });
      else {
        networks.set(d.metadata.name, d);
        rows.push({ ...base, action: 'create', message: `VLAN ${d.spec.vlanId}: a new network` });
      }
      continue;
    }
    if (d.kind !== 'VirtualMachine') continue;
    const vm = d as VirtualMachine;
    const hv = hypervisors.get(vm.spec.hypervisor);
    const withHv = { ...base, hypervisor: vm.spec.hypervisor };
    const onHypervisor = vm.spec.name ?? vm.metadata.name;
    if (!hv)
      rows.push({ ...withHv, action: 'error', message: `unknown engine ${vm.spec.hypervisor}: no Hypervisor of that name is declared (declared: ${[...hypervisors.keys()].join(', ') || 'none'})` });
    else if (declaredKeys.has(key) || seen.has(key)) rows.push({ ...withHv, action: 'error', message: `duplicate name: ${key} is declared already` });
    else if (ctx.inventory.vms.some((v) => v.hypervisor === hv.metadata.name && v.name === onHypervisor))
      rows.push({ ...withHv, action: 'error', message: `duplicate name: a VM named ${onHypervisor} exists on ${hv.metadata.name} already` });
    else {
      try {
        // The same reading as the VM reconciler's (desiredOf): the connector's conventions included.
        const desired = normaliseVM(vm, { hypervisor: hv, networks, templates, conventions: ctx.conventions.get(hv.spec.type) ?? {} });
        const nodes = ctx.inventory.hypervisors.find((h) => h.name === hv.metadata.name)?.nodes ?? [];
        const counts = planned.get(hv.metadata.name) ?? new Map<string, number>();
        planned.set(hv.metadata.name, counts);
        const node = chooseNode({ vm: desired, nodes, planned: counts });
        if (node) counts.set(node, (counts.get(node) ?? 0) + 1);
        const disks = desired.disks.map((x) => `${x.name} ${formatBytes(x.sizeBytes)} ${x.interface}`).join(', ');
        const where = node ? `create on ${node}` : 'create (the hypervisor places it)';
        rows.push({ ...withHv, action: 'create', ...(node ? { node } : {}), message: disks ? `${where}; disks ${disks}` : where });
      } catch (e) {
        rows.push({ ...withHv, action: 'error', message: (e as Error).message });
      }
    }
    seen.add(key);
  }
  return rows;
}

export async function prepareRequest(file: { filename?: string; data: Buffer }, ctx: IntakeContext): Promise<IntakeRequest> {
  const requestRows = await rowsOf(file);
  const { documents, problems } = convertRows(requestRows);
  const plan = planDocuments(documents, problems, await planContext(ctx));
  const doc = requestRows.map((r) => r.meta?.document_num).find((x) => x !== undefined && x !== '');
  return {
    id: randomBytes(9).toString('base64url'),
    ...(doc !== undefined ? { documentNumber: String(doc) } : {}),
    documents,
    plan,
    problems,
    acceptable: plan.length > 0 && plan.every((r) => r.action !== 'error') && plan.some((r) => r.action === 'create'),
  };
}

const fileName = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'request';

/** What accepting did: files written (and their commit), or objects created in the cluster. */
export interface Accepted {
  files?: string[];
  commit?: string;
  created?: string[];
}

/** Where accepted documents go: a folder (directory mode) or the API server (Kubernetes mode). */
export type IntakeSink = (documents: AnyResource[], req: IntakeRequest) => Promise<Accepted>;

/** The documents of the plan's creates, once the request has no errors. */
export function acceptedDocuments(req: IntakeRequest): AnyResource[] {
  if (!req.acceptable) throw new IntakeError('this request has errors (or creates nothing) and cannot be accepted: fix the rows shown and upload it again');
  const creates = new Set(req.plan.filter((r) => r.action === 'create').map((r) => `${r.kind}/${r.namespace ?? ''}/${r.name}`));
  return (req.documents as AnyResource[]).filter((d) => creates.has(`${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`));
}

/** Directory mode: one file per request in the folder, committed when the folder is in a git repository. */
export function folderSink(dir: string): IntakeSink {
  return async (docs, req) => {
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${fileName(req.documentNumber ?? `request-${req.id}`)}.yaml`);
    await writeFile(
      file,
      `# Accepted through the virtkeeper inventory${req.documentNumber ? `, request ${req.documentNumber}` : ''}\n${docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n')}`,
      { flag: 'wx' },
    ).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'EEXIST' ? new IntakeError(`${file} exists already: request ${req.documentNumber ?? req.id} was accepted before`) : e;
    });
    const commit = await gitCommit(
      dir,
      [file],
      `Request ${req.documentNumber ?? req.id}: ${docs.map((d) => `${d.kind} ${d.metadata.name}`).join(', ')}\n\nAccepted through the virtkeeper inventory page.`,
    );
    return { files: [file], ...(commit ? { commit } : {}) };
  };
}

export async function acceptRequest(req: IntakeRequest, sink: IntakeSink): Promise<Accepted> {
  return sink(acceptedDocuments(req), req);
}

async function gitCommit(dir: string, files: string[], message: string): Promise<string | undefined> {
  let top: string;
  try {
    top = (await run('git', ['-C', dir, 'rev-parse', '--show-toplevel'])).stdout.trim();
  } catch {
    return undefined; // not a repository: the files are the change
  }
  const who = (await run('git', ['-C', top, 'config', 'user.email']).catch(() => ({ stdout: '' }))).stdout.trim() ? [] : ['-c', 'user.name=virtkeeper', '-c', 'user.email=virtkeeper@localhost'];
  const rel = files.map((f) => relative(top, f));
  await run('git', ['-C', top, 'add', '--', ...rel]);
  await run('git', ['-C', top, ...who, 'commit', '-q', '-m', message, '--', ...rel]);
  return (await run('git', ['-C', top, 'rev-parse', 'HEAD'])).stdout.trim();
}
