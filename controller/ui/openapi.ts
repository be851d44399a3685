// The JSON API's OpenAPI 3.1 document (its schemas are JSON Schema 2020-12; the tests validate
// every response against them).
const str = { type: 'string' };
const num = { type: 'number' };
const usage = {
  type: 'object',
  additionalProperties: false,
  properties: { cpuRatio: num, memoryUsedBytes: num, diskReadBytes: num, diskWriteBytes: num, networkReceiveBytes: num, networkTransmitBytes: num },
};
const vm = {
  type: 'object',
  additionalProperties: false,
  required: ['hypervisor', 'type', 'name', 'providerID', 'state', 'vcpus', 'memoryBytes', 'disks', 'diskBytes', 'ips', 'managed', 'plan'],
  properties: {
    hypervisor: str,
    type: { enum: ['ovirt', 'proxmox', 'libvirt'] },
    datacenter: str,
    cluster: str,
    node: str,
    name: str,
    providerID: str,
    state: { enum: ['running', 'stopped', 'paused', 'starting', 'stopping', 'unknown'] },
    vcpus: { type: 'integer', minimum: 0 },
    memoryBytes: num,
    disks: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['name', 'sizeBytes'], properties: { name: str, sizeBytes: num, storage: str } } },
    diskBytes: num,
    ips: { type: 'array', items: str },
    managed: { type: 'boolean' },
    owner: { type: 'object', additionalProperties: false, required: ['kind', 'name', 'key'], properties: { kind: str, namespace: str, name: str, key: str, instance: str } },
    plan: { enum: ['in sync', 'changes pending', 'restart required', 'refused', 'unmanaged', 'not reconciled'] },
    ready: str,
    usage: { $ref: '#/components/schemas/Usage' },
    throughput: {
      type: 'object',
      additionalProperties: false,
      description: 'bytes per second between the last two observations',
      properties: { diskReadBps: num, diskWriteBps: num, networkReceiveBps: num, networkTransmitBps: num },
    },
  },
};
const node = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'state', 'vmCount'],
  properties: { name: str, state: { enum: ['online', 'offline', 'maintenance', 'unknown'] }, cpus: num, cpuUsage: num, memoryBytes: num, memoryUsedBytes: num, load: num, vms: num, vmCount: num },
};
const hypervisor = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'nodes', 'vmCount', 'unreachable'],
  properties: {
    name: str,
    type: str,
    datacenter: str,
    cluster: str,
    observedAt: str,
    nodes: { type: 'array', items: { $ref: '#/components/schemas/Node' } },
    vmCount: num,
    unreachable: { type: 'array', items: str },
  },
};
const event = {
  type: 'object',
  required: ['type', 'key', 'at'],
  properties: {
    type: { enum: ['action', 'progress', 'status', 'refused', 'error'] },
    key: str,
    at: { type: 'string', format: 'date-time' },
    action: str,
    phase: str,
    code: str,
    message: str,
    summary: str,
  },
};
const planRow = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name', 'action', 'message'],
  properties: { kind: str, namespace: str, name: str, hypervisor: str, action: { enum: ['create', 'reuse', 'error'] }, node: str, message: str, row: { type: 'integer' } },
};
const error = { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: str, message: str } } } };

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const q = (name: string, description: string, schema: object = str) => ({ name, in: 'query', required: false, description, schema });

export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'virtkeeper inventory', version: '1', description: 'Every VM on every Hypervisor, from the controller’s own observation.' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The token of --ui-token-file (not needed on loopback without one).' } },
    schemas: {
      Usage: usage,
      VM: vm,
      Node: node,
      Hypervisor: hypervisor,
      Event: event,
      PlanRow: planRow,
      Error: error,
      VMList: {
        type: 'object',
        additionalProperties: false,
        required: ['items', 'total'],
        properties: { items: { type: 'array', items: { $ref: '#/components/schemas/VM' } }, total: { type: 'integer' } },
      },
      VMDetail: {
        type: 'object',
        additionalProperties: false,
        required: ['vm', 'samples'],
        properties: {
          vm: { $ref: '#/components/schemas/VM' },
          samples: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['at'], properties: { ...usage.properties, at: { type: 'string', format: 'date-time' } } } },
          status: { type: 'object', description: 'the owner resource’s status, when managed' },
        },
      },
      HypervisorList: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Hypervisor' } } } },
      EventList: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Event' } } } },
      Request: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'plan', 'manifests', 'acceptable'],
        properties: {
          id: str,
          documentNumber: str,
          plan: { type: 'array', items: { $ref: '#/components/schemas/PlanRow' } },
          manifests: str,
          acceptable: { type: 'boolean' },
          accepted: { type: 'object', properties: { files: { type: 'array', items: str }, commit: str } },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/vms': {
      get: {
        summary: 'VMs, filtered',
        parameters: [
          q('hypervisor', 'Hypervisor name'),
          q('type', 'ovirt, proxmox or libvirt'),
          q('node', 'node name'),
          q('state', 'power state'),
          q('managed', 'true: owned by a virtkeeper resource; false: not', { enum: ['true', 'false'] }),
          q('namespace', 'owner namespace'),
          q('q', 'text in the name, an IP or the owner'),
        ],
        responses: { '200': { description: 'the VMs', content: json('VMList') } },
      },
    },
    '/api/v1/vms/{hypervisor}/{name}': {
      get: {
        summary: 'One VM, with its last hour of usage samples',
        parameters: [
          { name: 'hypervisor', in: 'path', required: true, schema: str },
          { name: 'name', in: 'path', required: true, schema: str },
        ],
        responses: { '200': { description: 'the VM', content: json('VMDetail') }, '404': { description: 'no such VM', content: json('Error') } },
      },
    },
    '/api/v1/hypervisors': { get: { summary: 'Hypervisors with their nodes and load', responses: { '200': { description: 'the hypervisors', content: json('HypervisorList') } } } },
    '/api/v1/events': {
      get: {
        summary: 'Recent reconcile events, newest first',
        parameters: [q('key', 'resource key, e.g. VirtualMachine/default/web-1')],
        responses: { '200': { description: 'events', content: json('EventList') } },
      },
    },
    '/api/v1/requests': {
      post: {
        summary: 'Upload a request (multipart field jsonfile: JSON or .xlsx); accept=true writes it into the requests folder',
        requestBody: {
          content: {
            'multipart/form-data': { schema: { type: 'object', required: ['jsonfile'], properties: { jsonfile: { type: 'string', format: 'binary' }, accept: { enum: ['true', 'false'] } } } },
          },
        },
        responses: {
          '200': { description: 'the manifests and their plan (accepted when asked and possible)', content: json('Request') },
          '400': { description: 'bad input; nothing changed', content: json('Error') },
          '403': { description: 'intake is off (--ui-read-only)', content: json('Error') },
          '413': { description: 'upload too large', content: json('Error') },
        },
      },
    },
  },
} as const;
