import { join } from 'node:path';
import type { Command } from 'commander';
// The web server (fastify) and intake are imported when served: the other commands never load them.
import { systemClock } from '../../runtime/clock.ts';
import { loadFolder } from '../../sources/load-folder.ts';
import type { KubeRest } from '../../sources/kube-rest.ts';
import type { AnyResource } from '../../api/types.ts';
// The inventory server (fastify, its templates) is imported when served: a controller without
// --ui never loads it (some 20 MB of a Kubernetes-mode controller's resident memory).
import type { ServedInventory, ServeInventoryOptions, UiFlags } from '../../ui/serve.ts';
import { hypervisorPool, makeLogger, stateFor, type GlobalOptions } from '../context.ts';
import { EXIT } from '../exit-codes.ts';

/** `virtkeeper ui -f DIR`: the inventory of a folder's Hypervisors, read-only, without reconciling. */
export function uiCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('ui')
    .description("serve the fleet inventory of a folder's Hypervisors (read-only; observes each once per resync, reconciles nothing)")
    .requiredOption('-f, --filename <dir>', 'folder of YAML manifests (its Hypervisors are shown; its state directory gives the owners’ status)')
    .option('--listen <addr>', 'HOST:PORT to serve on (any address off loopback needs --ui-token-file)', '127.0.0.1:8090')
    .option('--ui-token-file <file>', 'file holding the token for the API (Bearer) and the login form')
    .addHelpText('after', '\nExamples:\n  virtkeeper ui -f ./vms\n  virtkeeper ui -f ./vms --listen 0.0.0.0:8090 --ui-token-file ~/.config/virtkeeper/ui-token')
    .action(async (o: { filename: string; listen: string; uiTokenFile?: string }) => {
      const g = globals();
      const logger = makeLogger(g.logLevel, 'info');
      const statuses = stateFor(o.filename, g);
      const pool = hypervisorPool(logger, g, undefined, undefined, { usage: true });
      let declared: readonly AnyResource[] = [];
      const reload = async () => {
        const load = await loadFolder(o.filename);
        declared = load.resources.map((r) => r.resource);
      };
      await reload();
      const { serveInventory } = await import('../../ui/serve.ts');
      const served = await serveInventory({
        listen: o.listen,
        ...(o.uiTokenFile ? { tokenFile: o.uiTokenFile } : {}),
        pool,
        declared: () => declared,
        records: () => statuses.list(),
        now: systemClock.now,
        logger,
        observe: true,
      });
      const reloadTimer = setInterval(() => void reload().catch(() => undefined), 10_000);
      process.stdout.write(`inventory: ${served.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(reloadTimer);
      await served.close();
      await pool.closeAll();
      process.exitCode = EXIT.ok;
    });
}

/** `run`'s inventory flags. */
export function addUiOptions(cmd: Command): Command {
  return cmd
    .option('--ui <addr>', 'serve the fleet inventory (page and JSON API) on HOST:PORT, e.g. 127.0.0.1:8090 (off loopback needs --ui-token-file)')
    .option('--ui-token-file <file>', 'file holding the token for the inventory: Bearer for the API, the login form for the page')
    .option('--ui-read-only', 'inventory without request intake')
    .option('--ui-requests-dir <dir>', 'directory mode: where accepted requests are written (default: requests/ in the folder)');
}

/** The inventory `run` serves when --ui is given (directory mode: intake writes into the folder). */
export async function inventoryFromFlags(f: UiFlags, o: Omit<ServeInventoryOptions, 'listen' | 'tokenFile' | 'intake'> & { folder?: string; kube?: KubeRest }): Promise<ServedInventory | undefined> {
  if (!f.ui) return undefined;
  const intake = f.uiReadOnly
    ? undefined
    : o.folder
      ? (await import('../../ui/intake.ts')).folderSink(f.uiRequestsDir ?? join(o.folder, 'requests'))
      : o.kube
        ? (await import('../../ui/intake-kube.ts')).kubeSink(o.kube)
        : undefined;
  const { serveInventory } = await import('../../ui/serve.ts');
  return serveInventory({ ...o, listen: f.ui, ...(f.uiTokenFile ? { tokenFile: f.uiTokenFile } : {}), ...(intake ? { intake } : {}) });
}

/**
 * The quickstart's inventory: read-only, observing on its own (the quickstart converges in
 * passes, not continuously). A port that cannot be had is said and skipped, never fatal.
 */
export async function quickstartInventory(o: {
  listen: string;
  folder: string;
  pool: ServeInventoryOptions['pool'];
  records: ServeInventoryOptions['records'];
  logger: ServeInventoryOptions['logger'];
}): Promise<ServedInventory | undefined> {
  const load = await loadFolder(o.folder);
  const declared = load.resources.map((r) => r.resource);
  const { serveInventory } = await import('../../ui/serve.ts');
  return serveInventory({ listen: o.listen, pool: o.pool, declared: () => declared, records: o.records, now: systemClock.now, logger: o.logger, observe: true }).catch((e: unknown) => {
    o.logger.warn({ err: (e as Error).message }, 'quickstart: no inventory page');
    return undefined;
  });
}
