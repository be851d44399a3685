import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { parseKey } from '../../api/keys.ts';
import { Metrics } from '../../runtime/metrics.ts';
import { systemClock } from '../../runtime/clock.ts';
import { directoryGate, folderView } from '../../runtime/modes/directory.ts';
import { Manager } from '../../runtime/manager.ts';
import { Reconciler } from '../../runtime/reconciler.ts';
import { DesiredStore } from '../../sources/store.ts';
import { DirectorySource } from '../../sources/directory.ts';
import { hypervisorPool, makeLogger, stateFor, type GlobalOptions } from '../context.ts';
import { directoryInstance } from '../instance.ts';
import { EXIT } from '../exit-codes.ts';
import { addRemovalOptions, removalPolicy, type RemovalFlags } from '../removal-options.ts';
import { progressPrinter } from '../progress.ts';
import { styleFor } from '../style.ts';
import { addUiOptions, inventoryFromFlags } from './ui.ts';
import type { UiFlags } from '../../ui/serve.ts';

interface RunOpts extends RemovalFlags, UiFlags {
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
  addRemovalOptions(cmd, { grace: '30s' })
    .addHelpText('after', '\nExamples:\n  virtkeeper run -f ./vms\n  virtkeeper run -f ./vms --metrics-port 9464\n  virtkeeper run --kubeconfig ~/.kube/config --leader-elect')
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
        });
        return;
      }
      const logger = makeLogger(g.logLevel, 'info');
      const statuses = stateFor(o.filename, g);
      const store = new DesiredStore();
      // Events between resyncs wake the VMs of that hypervisor at once (level-based: a pass re-reads everything).
      const wake = (hypervisor: string) =>
        manager.enqueue(
          store
            .vms()
            .filter((v) => v.spec.hypervisor === hypervisor)
            .map((v) => `VirtualMachine/${v.metadata.namespace ?? 'default'}/${v.metadata.name}`),
        );
      const hypervisors = hypervisorPool(logger, g, (name) => wake(name));
      const gate = directoryGate({ stateDir: statuses.dir, now: Date.now, policy: removalPolicy(o) });
      const metrics = new Metrics();
      const printer = o.progress ? progressPrinter(process.stdout, styleFor(process.stdout), !process.stdout.isTTY) : undefined;
      const instance = directoryInstance(o.instance, statuses.dir);
      const ui = await inventoryFromFlags(o, {
        folder: o.filename,
        pool: hypervisors,
        declared: () => store.all().map((e) => e.resource),
        records: () => statuses.list(),
        now: Date.now,
        logger,
        metrics,
      });
      const reconciler = new Reconciler({
        store,
        statuses,
        hypervisors,
        logger,
        now: Date.now,
        removals: gate,
        instance,
        emit: (e) => {
          metrics.sink(e);
          printer?.(e);
          ui?.sink(e);
        },
      });
      const manager = new Manager({
        reconciler: { reconcile: (key) => metrics.time(parseKey(key).kind, () => reconciler.reconcile(key)) },
        store,
        logger,
        clock: systemClock,
        workers: Number(o.workers),
      });
      metrics.gauge('virtkeeper_workqueue_depth', 'Keys waiting for a worker.', () => [{ labels: {}, value: manager.queue.len() }]);
      metrics.gauge('virtkeeper_resources', 'Declared resources, by kind.', () => {
        const counts = new Map<string, number>();
        for (const e of store.all()) counts.set(e.resource.kind, (counts.get(e.resource.kind) ?? 0) + 1);
        return [...counts].map(([kind, value]) => ({ labels: { kind }, value }));
      });
      const server =
        o.metricsPort === undefined
          ? undefined
          : createServer((req, res) => {
              if (req.url === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
              else res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' }).end(req.url === '/healthz' ? 'ok' : 'not found');
            });
      if (server) {
        await new Promise<void>((r) => server.listen(Number(o.metricsPort), '127.0.0.1', () => r()));
        logger.info({ metrics: (server.address() as AddressInfo).port }, 'serving /metrics');
      }
      const source = new DirectorySource({
        folder: o.filename,
        store,
        statuses,
        logger,
        onChange: (keys) => {
          void (async () => {
            // Every read counts for the grace; the gate decides the removals of this read.
            await gate.review(folderView(await statuses.list(), store));
            if (gate.refusal) logger.error({ folder: o.filename }, `deletion guard: ${gate.refusal}`);
            manager.enqueue(keys);
            scheduleGraceRead();
          })().catch((e: unknown) => logger.error({ folder: o.filename, err: (e as Error).message }, 'cannot review removals; nothing is removed'));
        },
      });
      // A removal held by the grace needs one more read after the grace: ask for it then.
      let graceTimer: NodeJS.Timeout | undefined;
      const scheduleGraceRead = () => {
        const held = gate.graceHeld();
        if (held.keys.length === 0 || graceTimer) return;
        graceTimer = setTimeout(() => {
          graceTimer = undefined;
          void source.reload();
        }, Math.max(held.retryAfterMs, 0) + 100);
      };
      manager.start();
      await source.start();
      logger.info({ folder: o.filename, stateDir: statuses.dir, instance, resources: store.keys().length }, 'watching');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      logger.info('stopping');
      if (graceTimer) clearTimeout(graceTimer);
      await source.stop();
      await manager.stop();
      server?.close();
      await ui?.close();
      await hypervisors.closeAll();
      process.exitCode = EXIT.ok;
    });
}
