// The oVirt simulator's day-2 surface under the official Python SDK (it speaks XML and parses
// every answer with the API model's types): snapshots, restore, consoles, host maintenance.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';

const python = process.env.VK_PYTHON;
const run = promisify(execFile);

describe.skipIf(!python)('ovirt-engine-sdk-python on the day-2 surface', () => {
  it('snapshots with memory, restore refused while up then done, consoles with a ticket and the .vv file, host maintenance, statistics', async () => {
    const sim = await startOvirtSimulator({ name: 'sdk2', templates: ['centos-9'], imageCopyMs: 40, bootStepMs: 10, diskResizeMs: 10 });
    try {
      const { stdout } = await run(python ?? '', [join(import.meta.dirname, 'ovirt_sdk_day2.py'), sim.url, sim.credentials.username, sim.credentials.password]);
      expect(JSON.parse(stdout)).toEqual({
        made: ['from the sdk', 'locked', true],
        listed: [
          ['active', 'Active VM'],
          ['regular', 'from the sdk'],
        ],
        restore_running: [409, true],
        consoles: ['spice', 'vnc'],
        ticket_expiry: 90,
        ticket_len: true,
        vv_head: '[virt-viewer]',
        vv_type: ['type=spice'],
        stats: ['cpu.current.total', 'memory.installed', 'memory.used'],
        deactivate_busy: [409, true],
        host: 'maintenance',
        after_remove: ['active'],
      });
    } finally {
      await sim.close();
    }
  }, 60_000);
});
