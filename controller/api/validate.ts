// Schema validation (ajv) of loaded documents and the checks a schema cannot express.
// Every problem names file:line, the resource and the field, and says what was expected.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { API_VERSION } from './common.ts';
import { DEFAULT_NAMESPACE, describeId, keyOf, type ResourceId } from './keys.ts';
import { KINDS, KIND_NAMES, type KindName } from './kinds.ts';
import type { LoadedDocument, ManifestProblem } from './manifest.ts';
import { parseQuantity } from './quantity.ts';
import { checkSchedule } from './snapshot-checks.ts';
import type { AnyResource } from './types.ts';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

let ajv: Ajv | undefined;
const validators = new Map<KindName, ValidateFunction>();
/** Compiled on first use, per kind: a folder of VMs does not pay for the snapshot kinds' schemas. */
function validatorFor(kind: KindName): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    if (!ajv) {
      ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
      addFormats(ajv);
    }
    v = ajv.compile(KINDS[kind].schema);
    validators.set(kind, v);
  }
  return v;
}

export interface ValidResource {
  id: ResourceId;
  key: string;
  resource: AnyResource;
  source: LoadedDocument['source'];
}

export interface ValidationResult {
  resources: ValidResource[];
  problems: ManifestProblem[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeAjvError(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field "${String(p.additionalProperty)}"`;
    case 'required':
      return `missing required field "${String(p.missingProperty)}"`;
    case 'type':
      return `expected ${String(p.type)}`;
    case 'pattern': {
      const expected = (e.parentSchema as Record<string, unknown> | undefined)?.['x-vk-expected'];
      if (typeof expected === 'string') return `expected ${expected}, got ${JSON.stringify(e.data)}`;
      return `value does not match the expected form ${String(p.pattern)}`;
    }
    case 'anyOf':
      return 'value is not one of the allowed values';
    case 'const':
      return `expected "${String(p.allowedValue)}"`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
      return `must be ${String(p.comparison)} ${String(p.limit)}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** Collapses ajv's error list: an anyOf of literals reports its allowed values once. */
function schemaProblems(doc: LoadedDocument, id: ResourceId | undefined, errors: ErrorObject[]): ManifestProblem[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const path = e.keyword === 'additionalProperties' ? `${e.instancePath}/${String((e.params as Record<string, unknown>).additionalProperty)}` : e.instancePath;
    byPath.set(path, [...(byPath.get(path) ?? []), e]);
  }
  const out: ManifestProblem[] = [];
  for (const [path, errs] of byPath) {
    const consts = errs.filter((e) => e.keyword === 'const').map((e) => `"${String((e.params as Record<string, unknown>).allowedValue)}"`);
    const message = consts.length > 1 ? `expected one of ${consts.join(', ')}` : describeAjvError(errs.find((e) => e.keyword !== 'anyOf') ?? (errs[0] as ErrorObject));
    out.push(problem(doc, id, path, message));
  }
  return out;
}

function problem(doc: LoadedDocument, id: ResourceId | undefined, path: string | undefined, message: string): ManifestProblem {
  const base: ManifestProblem = { file: doc.source.file, line: path ? doc.source.lineOf(path) : doc.source.line, message };
  if (id) base.resource = describeId(id);
  if (path !== undefined) base.path = toFieldPath(path);
  return base;
}

/** `/spec/disks/0/size` → `spec.disks[0].size` */
export function toFieldPath(pointer: string): string {
  return pointer
    .split('/')
    .filter((s) => s !== '')
    .map((s, i) => (/^[0-9]+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

/** Validates each document on its own: a broken one never hides the others. */
export function validateDocuments(docs: LoadedDocument[]): ValidationResult {
  const resources: ValidResource[] = [];
  const problems: ManifestProblem[] = [];
  for (const doc of docs) {
    const v = doc.value;
    if (!isRecord(v)) {
      problems.push(problem(doc, undefined, undefined, 'expected a mapping with apiVersion, kind, metadata and spec'));
      continue;
    }
    const kind = v.kind;
    if (typeof kind !== 'string' || !(KIND_NAMES as readonly string[]).includes(kind)) {
      problems.push(problem(doc, undefined, '/kind', `unknown kind ${JSON.stringify(kind)}: expected one of ${KIND_NAMES.join(', ')}`));
      continue;
    }
    const k = kind as KindName;
    const meta = isRecord(v.metadata) ? v.metadata : {};
    const name = typeof meta.name === 'string' ? meta.name : '<unnamed>';
    const id: ResourceId = KINDS[k].scope === 'Cluster' ? { kind: k, name } : { kind: k, name, namespace: typeof meta.namespace === 'string' ? meta.namespace : DEFAULT_NAMESPACE };
    if (v.apiVersion !== API_VERSION) {
      problems.push(problem(doc, id, '/apiVersion', `expected apiVersion ${API_VERSION}, got ${JSON.stringify(v.apiVersion)}`));
      continue;
    }
    const validate = validatorFor(k);
    if (!validate(v)) {
      problems.push(...schemaProblems(doc, id, validate.errors ?? []));
      continue;
    }
    const semantic = checkResource(v as unknown as AnyResource);
    if (semantic.length > 0) {
      problems.push(...semantic.map((s) => problem(doc, id, s.path, s.message)));
      continue;
    }
    resources.push({ id, key: keyOf(id), resource: v as unknown as AnyResource, source: doc.source });
  }
  return { resources, problems };
}

interface FieldProblem {
  path: string;
  message: string;
}

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

/** Whether `gateway` lies inside `cidr` (both IPv4). */
export function sameSubnet(cidr: string, gateway: string): boolean {
  const [addr, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = ipToInt(addr ?? '');
  const g = ipToInt(gateway);
  if (a === undefined || g === undefined || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (g & mask);
}

/** Whether a URL names a user or password (`any`), or a password (`password`) in its authority. */
function hasUserinfo(url: string, what: 'any' | 'password'): boolean {
  try {
    const u = new URL(url);
    return what === 'any' ? u.username !== '' || u.password !== '' : u.password !== '';
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i.test(url) && (what === 'any' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s]*:[^/?#\s]*@/i.test(url));
  }
}

function quantityProblem(path: string, value: string | undefined): FieldProblem[] {
  if (value === undefined) return [];
  try {
    if (parseQuantity(value) <= 0) return [{ path, message: `must be greater than zero, got ${value}` }];
    return [];
  } catch (e) {
    return [{ path, message: (e as Error).message }];
  }
}

/** Checks of one resource that JSON Schema cannot express. */
export function checkResource(r: AnyResource): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (r.kind === 'VirtualMachine' || r.kind === 'VirtualMachineSet') {
    const spec = r.kind === 'VirtualMachine' ? r.spec : r.spec.template;
    const base = r.kind === 'VirtualMachine' ? '/spec' : '/spec/template';
    out.push(...quantityProblem(`${base}/memory`, spec.memory), ...quantityProblem(`${base}/maxMemory`, spec.maxMemory));
    if (spec.maxMemory && out.length === 0 && parseQuantity(spec.memory) > parseQuantity(spec.maxMemory)) {
      out.push({ path: `${base}/memory`, message: `memory ${spec.memory} is above maxMemory ${spec.maxMemory}` });
    }
    const seenDisks = new Set<string>();
    (spec.disks ?? []).forEach((d, i) => {
      out.push(...quantityProblem(`${base}/disks/${i}/size`, d.size));
      if (seenDisks.has(d.name)) out.push({ path: `${base}/disks/${i}/name`, message: `duplicate disk name "${d.name}"` });
      seenDisks.add(d.name);
    });
    const seenNics = new Set<string>();
    (spec.networks ?? []).forEach((n, i) => {
      if (seenNics.has(n.name)) out.push({ path: `${base}/networks/${i}/name`, message: `duplicate network name "${n.name}"` });
      seenNics.add(n.name);
      if (n.ipv4?.gateway && !sameSubnet(n.ipv4.address, n.ipv4.gateway)) {
        out.push({ path: `${base}/networks/${i}/ipv4/gateway`, message: `gateway ${n.ipv4.gateway} is not in the subnet of ${n.ipv4.address}` });
      }
    });
    if (r.kind === 'VirtualMachineSet' && r.spec.replicas === undefined && r.spec.users === undefined) {
      out.push({ path: '/spec', message: 'expected replicas or users' });
    }
  } else if (r.kind === 'VirtualDisk') {
    out.push(...quantityProblem('/spec/size', r.spec.size));
  } else if (r.kind === 'VirtualNetwork') {
    if (r.spec.cidr && r.spec.gateway && !sameSubnet(r.spec.cidr, r.spec.gateway)) {
      out.push({ path: '/spec/gateway', message: `gateway ${r.spec.gateway} is not in the subnet of ${r.spec.cidr}` });
    }
  } else if (r.kind === 'VirtualMachineSnapshotSchedule') {
    out.push(...checkSchedule(r));
  } else if (r.kind === 'Hypervisor') {
    if (r.spec.type === 'libvirt' && !(r.spec.hosts && r.spec.hosts.length > 0)) out.push({ path: '/spec/hosts', message: 'a libvirt Hypervisor needs hosts: [{name, uri}]' });
    if (r.spec.type !== 'libvirt' && !r.spec.endpoint) out.push({ path: '/spec/endpoint', message: `a ${r.spec.type} Hypervisor needs an endpoint URL` });
    // Credentials in a URL end up in statuses, events and logs: they belong in credentialsRef.
    if (r.spec.endpoint && hasUserinfo(r.spec.endpoint, 'any'))
      out.push({ path: '/spec/endpoint', message: 'the URL carries a user name or password (user:password@host); remove it and name the credentials in credentialsRef' });
    (r.spec.hosts ?? []).forEach((h, i) => {
      if (hasUserinfo(h.uri, 'password'))
        out.push({ path: `/spec/hosts/${i}/uri`, message: 'the URI carries a password (user:password@host); remove it (an ssh login name alone, user@host, is fine)' });
    });
    const cordoned = new Set<string>();
    (r.spec.maintenance ?? []).forEach((m, i) => {
      if (cordoned.has(m.node)) out.push({ path: `/spec/maintenance/${i}/node`, message: `node "${m.node}" is listed twice; keep one entry per node` });
      cordoned.add(m.node);
      if (m.hostMaintenance && r.spec.type !== 'ovirt')
        out.push({ path: `/spec/maintenance/${i}/hostMaintenance`, message: `only oVirt has a host maintenance mode of its own; remove hostMaintenance from this ${r.spec.type} Hypervisor` });
      if (r.spec.type === 'libvirt' && r.spec.hosts && !r.spec.hosts.some((h) => h.name === m.node))
        out.push({ path: `/spec/maintenance/${i}/node`, message: `"${m.node}" is not one of spec.hosts (${r.spec.hosts.map((h) => h.name).join(', ')})` });
    });
  }
  return out;
}
