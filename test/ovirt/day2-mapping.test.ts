// The pure parts of the oVirt day-2 clients: usage from followed statistics, the .vv file,
// and the snapshot description that carries name and marker.
import { describe, expect, it } from 'vitest';
import { parseViewerFile } from '../../providers/ovirt/consoles.ts';
import { snapshotDescription, toObservedSnapshot } from '../../providers/ovirt/snapshots.ts';
import { toUsage } from '../../providers/ovirt/usage.ts';

const stat = (name: string, datum: unknown) => ({ name, values: { value: [{ datum }] } });

describe('oVirt usage from the statistics the list call follows', () => {
  it('reads the VM gauges, sums NIC totals and disk rates (strings, as engines send them)', () => {
    const vm = {
      statistics: { statistic: [stat('cpu.current.total', '37.5'), stat('memory.used', '536870912'), stat('memory.installed', '2147483648')] },
      nics: { nic: [{ statistics: { statistic: [stat('data.total.rx', '1000'), stat('data.total.tx', 10)] } }, { statistics: { statistic: [stat('data.total.rx', 24)] } }] },
      disk_attachments: { disk_attachment: [{ disk: { statistics: { statistic: [stat('data.current.read', '4096'), stat('data.current.write', '0')] } } }] },
    };
    expect(toUsage(vm)).toEqual({
      cpuRatio: 0.375,
      memoryUsedBytes: 536870912,
      networkReceiveBytes: 1024,
      networkTransmitBytes: 10,
      diskReadBytesPerSecond: 4096,
      diskWriteBytesPerSecond: 0,
    });
  });
  it('leaves out what was not reported', () => {
    expect(toUsage({ name: 'x' })).toBeUndefined();
    expect(toUsage({ statistics: { statistic: [stat('cpu.current.total', '')] } })).toBeUndefined();
  });
});

describe('the remote-viewer file', () => {
  it('parses the [virt-viewer] section only', () => {
    const vv = '[virt-viewer]\ntype=spice\nhost=10.0.0.5\nport=-1\ntls-port=5901\npassword=s3cr3t=x\n\n[ovirt]\nhost=engine:443\n';
    expect(parseViewerFile(vv)).toEqual({ type: 'spice', host: '10.0.0.5', port: '-1', 'tls-port': '5901', password: 's3cr3t=x' });
  });
});

describe('snapshot descriptions', () => {
  const owner = { kind: 'VirtualMachineSnapshot', namespace: 'ns', name: 'before-upgrade', instance: 'i1' };
  it('carry name and marker, and read back', () => {
    const d = snapshotDescription({ name: 'before-upgrade', owner, description: 'before the kernel update', memory: true, quiesce: false });
    expect(d).toBe('before the kernel update virtkeeper.io/snapshot=before-upgrade virtkeeper.io/owner=VirtualMachineSnapshot/ns/before-upgrade@i1');
    expect(toObservedSnapshot({ id: 's1', description: d, snapshot_status: 'locked', persist_memorystate: 'true', date: 1764619200000 })).toEqual({
      id: 's1',
      name: 'before-upgrade',
      description: 'before the kernel update',
      createdAt: '2025-12-01T20:00:00.000Z',
      memory: true,
      state: 'inProgress',
      owner,
    });
  });
  it('a snapshot made by hand is named by its description and has no owner', () => {
    expect(toObservedSnapshot({ id: 's2', description: 'manual', snapshot_status: 'ok', persist_memorystate: 'false' })).toEqual({
      id: 's2',
      name: 'manual',
      description: 'manual',
      memory: false,
      state: 'ready',
    });
  });
});
