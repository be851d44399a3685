// A request spreadsheet (one VM per row, a header row) → request rows, with a column
// mapping that a flag can override (`--column vm.memory=RAM`).
import type { RequestRow } from './request.ts';

/** Header text (case-insensitive) → request field. */
export const DEFAULT_COLUMNS: Record<string, string> = {
  'vm.name': 'name',
  'vm.hostname': 'hostname',
  'vm.cores': 'cores',
  'vm.memory': 'memory_gb',
  'vm.template': 'template',
  'vm.os': 'os',
  'vm.disks': 'disks_gb',
  'vm.nic_name': 'nic',
  'vm.address': 'ip',
  'vm.netmask': 'netmask',
  'vm.gateway': 'gateway',
  'vm.dns_servers': 'dns',
  'ovirt.engine': 'engine',
  'ovirt.cluster': 'cluster',
  'ovirt.storage_domain': 'storage_domain',
  'vlan.name': 'vlan_name',
  'vlan.id': 'vlan_id',
  'meta.document_num': 'document',
  'meta.inf_system': 'system',
  'meta.owner': 'owner',
  'meta.environment': 'environment',
};

export async function readXlsx(file: string, overrides: Record<string, string> = {}): Promise<RequestRow[]> {
  // Loaded here: exceljs and its ~150 modules cost every other command ~0.2 s of start-up.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.worksheets[0];
  if (!ws) return [];
  const headers = new Map<string, number>();
  ws.getRow(1).eachCell((cell, col) =>
    headers.set(
      String(cell.value ?? '')
        .trim()
        .toLowerCase(),
      col,
    ),
  );
  const map = { ...DEFAULT_COLUMNS, ...overrides };
  const rows: RequestRow[] = [];
  for (let r = 2; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    if (!row.hasValues) continue;
    const get = (field: string): string | undefined => {
      const col = headers.get((map[field] ?? '').toLowerCase());
      const v = col ? row.getCell(col).value : undefined;
      return v === null || v === undefined || v === '' ? undefined : String(typeof v === 'object' && 'text' in v ? v.text : v).trim();
    };
    const out: RequestRow = {
      meta: { document_num: get('meta.document_num'), inf_system: get('meta.inf_system'), owner: get('meta.owner'), environment: get('meta.environment') },
      ovirt: { engine: get('ovirt.engine'), cluster: get('ovirt.cluster'), storage_domain: get('ovirt.storage_domain') },
      vm: {
        name: get('vm.name'),
        hostname: get('vm.hostname'),
        cores: get('vm.cores'),
        memory: get('vm.memory'),
        template: get('vm.template'),
        os: get('vm.os'),
        disks: (get('vm.disks') ?? '')
          .split(/[;,\s]+/)
          .filter(Boolean)
          .map((size) => ({ size })),
        nic_name: get('vm.nic_name'),
        address: get('vm.address'),
        netmask: get('vm.netmask'),
        gateway: get('vm.gateway'),
        dns_servers: get('vm.dns_servers'),
      },
      ...(get('vlan.id') ? { vlan: { name: get('vlan.name'), id: get('vlan.id') } } : {}),
    };
    rows.push(JSON.parse(JSON.stringify(out)) as RequestRow);
  }
  return rows;
}
