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
import { PACKAGE_ROOT } from '../package-root.ts';
import { quickstartInventory } from './ui.ts';

const EXAMPLE = join(PACKAGE_ROOT, 'examples', 'quickstart');

/**
 * A local libvirtd the quickstart may use as well: VIRTKEEPER_QUICKSTART_LIBVIRT names its
 * URI (or `off`); by default qemu:///system, when it answers within two seconds.
 */
async function localLibvirt(): Promise<string | undefined> {
  const wanted = process.env.VIRTKEEPER_QUICKSTART_LIBVIRT;
  if (wanted === 'off') return undefined;
  const uri = wanted || 'qemu:///system';
  const { LibvirtConnection } = await import('../../../providers/libvirt/rpc/connection.ts');
  const probe = LibvirtConnection.connect(uri, { callTimeoutMs: 2000 }).then(async (c) => {
    await c.hostname();
    await c.lookupPool('default');
    await c.close();
    return uri;
  });
  const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref());
  return Promise.race([probe.catch(() => undefined), timeout]);
}

function localHypervisor(uri: string) {
  return { apiVersion: API_VERSION, kind: 'Hypervisor', metadata: { name: 'local-kvm' }, spec: { type: 'libvirt', hosts: [{ name: 'local', uri }] } };
}

/** A tiny VM (no OS) on the local libvirtd: shown with the others, removed at the end. */
function localVM(name: string) {
  return {
    apiVersion: API_VERSION,
    kind: 'VirtualMachine',
    metadata: { name: 'quickstart-kvm', namespace: 'default' },
    spec: {
      hypervisor: 'local-kvm',
      name,
      memory: '128Mi',
      disks: [{ name: 'root', size: '64Mi' }],
      guestAgent: false,
      runStrategy: 'Always',
      description: 'made by virtkeeper quickstart; removed when it ends',
    },
  };
}

/**
 * The quickstart: a simulated 3-node Proxmox cluster on loopback, examples/quickstart
 * applied to it, and a tiny VM on the local libvirtd when there is one; the VMs shown going
 * from Pending to Running. Offline, no credentials.
 */
export function quickstartCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('quickstart')
    .description('converge examples/quickstart on a built-in Proxmox simulator (and one small VM on a local libvirtd when there is one), offline, and show the result')
    .option('--keep', 'keep the simulator running afterwards (Ctrl-C to stop)')
    .option('--ui <addr>', 'serve the fleet inventory on HOST:PORT while the quickstart runs (0: any free port; off: none)', '127.0.0.1:0')
    .addHelpText('after', '\nExample:\n  npm run quickstart\n  virtkeeper quickstart --keep')
    .action(async (o: { keep?: boolean; ui: string }) => {
      const st = styleFor(process.stdout);
      const out = (s: string) => process.stdout.write(`${s}\n`);
      const logger = makeLogger(globals().logLevel, 'warn');
      const { startProxmoxSimulator } = await import('../../../providers/proxmox/simulator/index.ts');
      const sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04', 'redos-8'] });
      const work = await mkdtemp(join(tmpdir(), 'virtkeeper-quickstart-'));
      const folder = join(work, 'manifests');
      // The simulator's credentials live in a folder of the quickstart's own, named as the credentials directory.
      const credentialsDir = join(work, 'credentials');
      const hypervisors = hypervisorPool(logger, { ...globals(), credentialsDir });
      const libvirtURI = await localLibvirt();
      const localName = `vk-quickstart-${Math.random().toString(36).slice(2, 6)}`;
      let statusesForCleanup: StateDir | undefined;
      let ui: Awaited<ReturnType<typeof quickstartInventory>>;
      try {
        out(st.paint('bold', `Proxmox simulator: ${sim.url} (3 nodes, templates ubuntu-24.04 and redos-8)`));
        await import('node:fs/promises').then((fs) => fs.mkdir(folder));
        for (const f of await readdir(EXAMPLE)) if (f !== 'hypervisor.yaml') await copyFile(join(EXAMPLE, f), join(folder, f));
        await import('node:fs/promises').then((fs) => fs.mkdir(credentialsDir, { mode: 0o700 }));
        const credFile = 'pve-sim.json';
        await writeFile(join(credentialsDir, credFile), JSON.stringify({ username: sim.credentials.username, password: sim.credentials.password }), { mode: 0o600 });
        const hv = {
          apiVersion: API_VERSION,
          kind: 'Hypervisor',
          metadata: { name: 'pve-sim' },
          spec: { type: 'proxmox', endpoint: sim.url, credentialsRef: { file: credFile }, defaults: { node: 'pve1', storage: 'local-lvm', bridge: 'vmbr0' }, resyncInterval: '30s' },
        };
        await writeFile(join(folder, 'hypervisor.yaml'), stringify(hv));
        if (libvirtURI) {
          out(st.paint('bold', `Local libvirt: ${libvirtURI} (one small VM without an OS, ${localName}; removed at the end)`));
          await writeFile(join(folder, 'local-kvm.yaml'), [stringify(localHypervisor(libvirtURI)), stringify(localVM(localName))].join('---\n'));
        }
        const statuses = new StateDir(join(work, 'state'));
        statusesForCleanup = statuses;
        ui = o.ui === 'off' ? undefined : await quickstartInventory({ listen: o.ui, folder, pool: hypervisors, records: () => statuses.list(), logger });
        if (ui) out(st.paint('bold', `Inventory: ${ui.url} (up while the quickstart runs)`));
        const base = { folder, statuses, hypervisors, logger, now: Date.now, sleep, ...(ui ? { emit: ui.sink } : {}) };

        out(st.paint('bold', '\n$ virtkeeper plan -f examples/quickstart'));
        const planned = await converge({ ...base, dryRun: true });
        out(renderPlan(planned.outcomes, st));

        out(st.paint('bold', '\n$ virtkeeper apply -f examples/quickstart --wait'));
        const t0 = Date.now();
        const printer = progressPrinter(process.stdout, st, false);
        const report = await converge({
          ...base,
          wait: true,
          timeoutMs: 120_000,
          emit: (e) => {
            printer(e);
            ui?.sink(e);
          },
        });
        const failed = report.outcomes.filter((x) => x.error);
        out(`\nconverged in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${report.outcomes.filter((x) => x.ready).length}/${report.outcomes.length} Ready`);

        // Guest agents answer a moment after boot: a few more passes pick up their IPs.
        for (let i = 0; i < 8; i++) {
          // (the local libvirt VM has no OS, so no agent and no IP to wait for)
          const vms = (await statuses.list()).filter((r) => r.kind === 'VirtualMachine' && r.hypervisor === 'pve-sim');
          if (vms.every((r) => r.status.ip)) break;
          await sleep(500);
          await converge({ ...base });
        }
        out(st.paint('bold', '\n$ virtkeeper get vkvm -o wide'));
        out(
          renderTable(
            KINDS.VirtualMachine,
            (await statuses.list()).filter((r) => r.kind === 'VirtualMachine'),
            { wide: true, nowMs: Date.now() },
          ),
        );
        process.exitCode = failed.length > 0 || report.timedOut ? EXIT.failed : EXIT.ok;
        if (o.keep) {
          out(
            `\nThe simulator stays up at ${sim.url} (user ${sim.credentials.username}); manifests in ${folder}, credentials in ${credentialsDir} (virtkeeper --credentials-dir ${credentialsDir} run -f ${folder}).${ui ? ` The inventory stays up at ${ui.url}.` : ''} Ctrl-C to stop.`,
          );
          await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        }
      } finally {
        if (libvirtURI && statusesForCleanup) {
          // The local VM goes: the Hypervisor stays declared, the VM is removed from the folder.
          await writeFile(join(folder, 'local-kvm.yaml'), stringify(localHypervisor(libvirtURI)));
          const gone = await converge({ folder, statuses: statusesForCleanup, hypervisors, logger, now: Date.now, sleep, maxDeleteShare: 1 }).catch((e: unknown) => e as Error);
          const failedRemoval = gone instanceof Error ? gone.message : gone.outcomes.find((x) => x.key === 'VirtualMachine/default/quickstart-kvm' && x.error)?.error?.message;
          out(failedRemoval ? `could not remove ${localName} from ${libvirtURI}: ${failedRemoval}` : `removed ${localName} from ${libvirtURI}`);
        }
        await ui?.close();
        await hypervisors.closeAll();
        await sim.close();
        await rm(work, { recursive: true, force: true });
      }
    });
}
