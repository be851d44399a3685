// `virtkeeper run`: the controller, in directory mode (-f) or Kubernetes mode (run-kube.ts).
import { join } from 'node:path';
import { fileMemory } from '../../status/provider-memory.ts';
import type { Command } from 'commander';
import { loadConnector } from '../../../providers/registry.ts';
import { systemClock } from '../../runtime/clock.ts';
import { credentialsFor, makeLogger, stateFor, type GlobalOptions } from '../context.ts';
import { directoryInstance } from '../instance.ts';
import { EXIT } from '../exit-codes.ts';
import { addRemovalOptions, removalPolicy, type RemovalFlags } from '../removal-options.ts';
import { progressPrinter } from '../progress.ts';
import { styleFor } from '../style.ts';
import { addUiOptions, inventoryFromFlags } from './ui.ts';
import { addConsoleOptions, type ConsoleFlags } from './console-flags.ts';
import type { UiFlags } from '../../ui/serve.ts';

interface RunOpts extends RemovalFlags, UiFlags, ConsoleFlags {
  filename?: string;
  kubeconfig?: string;
  workers: string;
  leaderElect?: boolean;
  hypervisorSelector?: string;
  namespace?: string;
  healthPort: string;
  metricsPort?: string;
  progress?: boolean;
  instance?: string;
}

export function runCommand(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command('run')
    .description('run the controller: watch a folder (-f) or Kubernetes (--kubeconfig, or in-cluster) and reconcile continuously')
    .option('-f, --filename <dir>', 'folder of YAML manifests to watch (directory mode)')
    .option('--kubeconfig <path>', 'Kubernetes mode with this kubeconfig (in-cluster config when neither -f nor --kubeconfig)')
    .option('--workers <n>', 'concurrent reconciles', '8')
    .option('--leader-elect', 'Kubernetes: elect one active replica with a Lease')
    .option('--hypervisor-selector <selector>', 'Kubernetes: only reconcile Hypervisors matching this label selector')
    .option('--namespace <ns>', 'Kubernetes: namespace for the Lease and Secrets', 'virtkeeper-system')
    .option('--health-port <port>', 'Kubernetes: port for /healthz, /readyz and /metrics (Prometheus)', '8080')
    .option('--progress', 'directory mode: print per-resource progress on stdout')
    .option(
      '--instance <id>',
      'controller instance named in VM markers (default: directory mode, a hash of the state directory, itself derived from the folder path; Kubernetes, of the kube-system namespace UID); VMs marked by another instance are not touched',
    )
    .option('--metrics-port <port>', 'directory mode: serve /metrics (Prometheus) and /healthz on 127.0.0.1:PORT (0 picks one, logged)');
  addUiOptions(cmd);
  addConsoleOptions(cmd);
  addRemovalOptions(cmd, { grace: '30s' })
    .addHelpText(
      'after',
      '\nExamples:\n  virtkeeper run -f ./vms\n  virtkeeper run -f ./vms --metrics-port 9464\n  virtkeeper run --kubeconfig ~/.kube/config --leader-elect\n  virtkeeper run --kubeconfig ~/.kube/config --console-listen 127.0.0.1:8443',
    )
    .action(async (o: RunOpts) => {
      const g = globals();
      if (!o.filename) {
        const { runKubernetes } = await import('./run-kube.ts');
        await runKubernetes({
          removal: removalPolicy(o),
          ...(o.instance !== undefined ? { instance: o.instance } : {}),
          ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
          namespace: o.namespace,
          leaderElect: !!o.leaderElect,
          healthPort: Number(o.healthPort),
          ...(o.hypervisorSelector ? { hypervisorSelector: o.hypervisorSelector } : {}),
          ...(g.logLevel ? { logLevel: g.logLevel } : {}),
          ...(o.ui ? { ui: o } : {}),
          console: o,
        });
        return;
      }
      // Listening from the start: a SIGTERM while starting stops cleanly once started, not half-way.
      const stopRequested = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const folder = o.filename;
      const logger = makeLogger(g.logLevel, 'info');
      const statuses = stateFor(folder, g);
      const instance = directoryInstance(o.instance, statuses.dir);
      // Imported here, as run-kube.ts is: the watcher and manager are `run`'s alone.
      const { startDirectoryMode } = await import('../../runtime/modes/directory.ts');
      const mode = await startDirectoryMode({
        folder,
        statuses,
        loadConnector,
        credentials: credentialsFor(g),
        memory: fileMemory(join(statuses.dir, 'provider-memory')),
        logger,
        clock: systemClock,
        instance,
        workers: Number(o.workers),
        removal: removalPolicy(o),
        ...(o.metricsPort !== undefined ? { metricsPort: Number(o.metricsPort) } : {}),
        attach: (p) =>
          inventoryFromFlags(o, { folder, pool: p.pool, declared: () => p.store.all().map((e) => e.resource), records: () => p.statuses.list(), now: p.now, logger: p.logger, metrics: p.metrics }),
        ...(o.progress ? { emit: progressPrinter(process.stdout, styleFor(process.stdout), !process.stdout.isTTY) } : {}),
      });
      logger.info({ folder, stateDir: statuses.dir, instance, resources: mode.resources }, 'watching');
      await stopRequested;
      logger.info('stopping');
      await mode.stop();
      process.exitCode = EXIT.ok;
    });
}
