import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { API_VERSION } from '../../api/common.ts';
import { converge } from '../../runtime/converge.ts';
import { StateDir } from '../../status/state-dir.ts';
import { hypervisorPool, makeLogger, sleep, type GlobalOptions } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { progressPrinter } from '../progress.ts';
import { renderPlan } from '../render-plan.ts';
import { renderTable } from '../render-get.ts';
import { KINDS } from '../../api/kinds.ts';
import { styleFor } from '../style.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', '..', 'examples', 'quickstart');

/**
 * The quickstart: a simulated 3-node Proxmox cluster on loopback, examples/quickstart
 * applied to it, the VMs shown going from Pending to Running. Offline, no credentials.
 */
export function quickstartCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('quickstart')
    .description('converge examples/quickstart on a built-in Proxmox simulator, offline, and show the result')
    .option('--keep', 'keep the simulator running afterwards (Ctrl-C to stop)')
    .addHelpText('after', '\nExample:\n  npm run quickstart\n  virtkeeper quickstart --keep')
    .action(async (o: { keep?: boolean }) => {
      const st = styleFor(process.stdout);
      const out = (s: string) => process.stdout.write(`${s}\n`);
      const logger = makeLogger(globals().logLevel, 'warn');
      const { startProxmoxSimulator } = await import('../../../providers/proxmox/simulator/index.ts');
      const sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04', 'redos-8'] });
      const work = await mkdtemp(join(tmpdir(), 'virtkeeper-quickstart-'));
      const folder = join(work, 'manifests');
      const hypervisors = hypervisorPool(logger);
      try {
        out(st.paint('bold', `Proxmox simulator: ${sim.url} (3 nodes, templates ubuntu-24.04 and redos-8)`));
        await import('node:fs/promises').then((fs) => fs.mkdir(folder));
        for (const f of await readdir(EXAMPLE)) if (f !== 'hypervisor.yaml') await copyFile(join(EXAMPLE, f), join(folder, f));
        const credFile = join(work, 'pve-sim.credentials.json');
        await writeFile(credFile, JSON.stringify({ username: sim.credentials.username, password: sim.credentials.password }), { mode: 0o600 });
        const hv = { apiVersion: API_VERSION, kind: 'Hypervisor', metadata: { name: 'pve-sim' }, spec: { type: 'proxmox', endpoint: sim.url, credentialsRef: { file: credFile }, defaults: { node: 'pve1', storage: 'local-lvm', bridge: 'vmbr0' }, resyncInterval: '30s' } };
        await writeFile(join(folder, 'hypervisor.yaml'), stringify(hv));
        const statuses = new StateDir(join(work, 'state'));
        const base = { folder, statuses, hypervisors, logger, now: Date.now, sleep };

        out(st.paint('bold', '\n$ virtkeeper plan -f examples/quickstart'));
        const planned = await converge({ ...base, dryRun: true });
        out(renderPlan(planned.outcomes, st));

        out(st.paint('bold', '\n$ virtkeeper apply -f examples/quickstart --wait'));
        const t0 = Date.now();
        const report = await converge({ ...base, wait: true, timeoutMs: 120_000, emit: progressPrinter(process.stdout, st, false) });
        const failed = report.outcomes.filter((x) => x.error);
        out(`\nconverged in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${report.outcomes.filter((x) => x.ready).length}/${report.outcomes.length} Ready`);

        // Guest agents answer a moment after boot: a few more passes pick up their IPs.
        for (let i = 0; i < 8; i++) {
          const vms = (await statuses.list()).filter((r) => r.kind === 'VirtualMachine');
          if (vms.every((r) => r.status.ip)) break;
          await sleep(500);
          await converge({ ...base });
        }
        out(st.paint('bold', '\n$ virtkeeper get vkvm -o wide'));
        out(renderTable(KINDS.VirtualMachine, (await statuses.list()).filter((r) => r.kind === 'VirtualMachine'), { wide: true, nowMs: Date.now() }));
        process.exitCode = failed.length > 0 || report.timedOut ? EXIT.failed : EXIT.ok;
        if (o.keep) {
          out(`\nThe simulator stays up at ${sim.url} (user ${sim.credentials.username}); manifests in ${folder}. Ctrl-C to stop.`);
          await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        }
      } finally {
        await hypervisors.closeAll();
        await sim.close();
        await rm(work, { recursive: true, force: true });
      }
    });
}
