// `virtkeeper console VM`: a short-lived console ticket for a VM this folder declares, as a
// remote-viewer (.vv) file written 0600 into a fresh temporary folder and opened with
// remote-viewer when it is installed, or printed with --print. The ticket goes to that file
// or to stdout only: never to a log line, the state directory or an event. With --kubeconfig the
// controller's console endpoint gives the ticket instead (console-kube.ts).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../../api/quantity.ts';
import { RefusedError, VkError } from '../../core/errors.ts';
import type { ConsoleTicket } from '../../core/provider.ts';
import { hypervisorPool, type GlobalOptions } from '../context.ts';
import { type FolderTarget, FolderTargetError, folderTarget } from '../folder-target.ts';
import { EXIT } from '../exit-codes.ts';
import { requestKubeConsole } from './console-kube.ts';

interface ConsoleOptions {
  filename: string;
  namespace: string;
  print?: boolean;
  protocol?: string;
  ttl: string;
  output?: string;
  instance?: string;
  viewer: string;
  kubeconfig?: string;
  controller?: string;
  controllerCa?: string;
  controllerNamespace: string;
}

/** A ticket as the CLI handles it: its facts and its file (directory mode also has the password apart). */
type Ticket = Omit<ConsoleTicket, 'password'>;

/** The viewer's path when it is installed (a path, or a name looked up in PATH). */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = isAbsolute(name)
    ? [name]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there; the next one
    }
  }
  return undefined;
}

function fail(message: string, code: string): undefined {
  process.stderr.write(`error: ${message} [${code}]\n`);
  process.exitCode = EXIT.failed;
  return undefined;
}

/** What may be shown about a ticket: everything but the secret and the file that carries it. */
function summary(t: Ticket): Record<string, unknown> {
  return { protocol: t.protocol, port: t.port, ...(t.tlsPort ? { tlsPort: t.tlsPort } : {}), expiresAt: t.expiresAt, ...(t.tunnel ? { tunnel: t.tunnel } : {}) };
}

export function consoleCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('console')
    .description("open a VM's graphical console: a remote-viewer (.vv) file with a short-lived ticket, opened with remote-viewer when installed")
    .argument('<vm>', 'VirtualMachine name')
    .option('-f, --filename <dir>', 'the manifests folder the VM is declared in', '.')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--print', 'print the .vv file on stdout instead of writing and opening it')
    .option('--protocol <protocol>', 'spice | vnc (default: what the VM has, SPICE first)')
    .option('--ttl <duration>', 'how long the ticket may live; the hypervisor may keep it shorter', '60s')
    .option('-o, --output <format>', 'text | json (without --print: where the file is and until when it is valid; the ticket is not shown)', 'text')
    .option('--viewer <command>', 'the viewer to open the file with', 'remote-viewer')
    .option('--instance <id>', 'controller instance named in VM markers, as given to apply (default: derived from the state directory)')
    .option('--kubeconfig <path>', "Kubernetes mode: ask the controller's console endpoint, with this kubeconfig's bearer token (the Hypervisor credentials stay in the controller)")
    .option('--controller <url>', 'Kubernetes mode: the console endpoint (default: data.url of ConfigMap virtkeeper-console in --controller-namespace)')
    .option('--controller-ca <file>', "Kubernetes mode: PEM CA the endpoint's certificate is checked against (default: the kubeconfig's cluster CA)")
    .option('--controller-namespace <ns>', "Kubernetes mode: the controller's namespace", 'virtkeeper-system')
    .addHelpText(
      'after',
      '\nExample:\n  virtkeeper console web-1 -f ./vms\n  virtkeeper console web-1 -f ./vms --print > web-1.vv && remote-viewer web-1.vv\n  virtkeeper console web-1 -f ./vms --protocol vnc --ttl 30s -o json\n  virtkeeper console web-1 -n team-a --kubeconfig ~/.kube/token-config --print\n\nKubernetes mode needs a token in the kubeconfig (e.g. from `kubectl create token`) and a RoleBinding to ClusterRole virtkeeper-console-user (manifests/console-user.yaml).\nThe file holds a secret: it is written 0600 and remote-viewer deletes it after reading (delete-this-file).',
    )
    .action(async (vmName: string, o: ConsoleOptions) => {
      const g = globals();
      if (o.protocol !== undefined && o.protocol !== 'spice' && o.protocol !== 'vnc') return fail(`--protocol must be spice or vnc, not ${o.protocol}`, 'VK_USAGE');
      let ttlSeconds: number;
      try {
        ttlSeconds = Math.max(1, Math.round(parseDuration(o.ttl) / 1000));
      } catch (e) {
        return fail((e as Error).message, 'VK_USAGE');
      }
      let ticket: Ticket;
      if (o.kubeconfig) {
        try {
          ticket = await requestKubeConsole(vmName, {
            kubeconfig: o.kubeconfig,
            namespace: o.namespace,
            controllerNamespace: o.controllerNamespace,
            ttlSeconds,
            ...(o.controller ? { controller: o.controller } : {}),
            ...(o.controllerCa ? { controllerCa: o.controllerCa } : {}),
            ...(o.protocol ? { protocol: o.protocol as 'spice' | 'vnc' } : {}),
          });
        } catch (e) {
          if (e instanceof VkError) return fail(e.message, e.code);
          throw e;
        }
      } else {
        const got = await fromFolder(vmName, o, ttlSeconds, g);
        if (!got) return;
        ticket = got;
      }
      await deliver(vmName, ticket, o);
    });
}

/** Directory mode: the ticket straight from the provider, with the credentials this process has. */
async function fromFolder(vmName: string, o: ConsoleOptions, ttlSeconds: number, g: GlobalOptions): Promise<ConsoleTicket | undefined> {
  let found: FolderTarget;
  try {
    found = await folderTarget(vmName, o, g);
  } catch (e) {
    if (e instanceof FolderTargetError) return fail(e.message, e.code);
    throw e;
  }
  const { hypervisor: hv, target, logger } = found;
  const pool = hypervisorPool(logger, g);
  let ticket: ConsoleTicket;
  try {
    const conn = await pool.get(hv);
    if (!conn.client.consoles) return fail(`the ${hv.spec.type} provider cannot open consoles yet; use the hypervisor's own console for ${vmName} (${target.providerID}) meanwhile`, 'VK_UNSUPPORTED');
    // The provider re-reads the VM and gives no ticket unless its marker names this resource.
    ticket = await conn.client.consoles.open(target, { ttlSeconds, ...(o.protocol ? { protocol: o.protocol as 'spice' | 'vnc' } : {}) });
  } catch (e) {
    if (e instanceof RefusedError)
      return fail(`${e.message}. The state directory may name an id another VM has taken since: run \`virtkeeper apply -f ${o.filename}\` to observe again, then retry`, e.code);
    if (e instanceof VkError) return fail(e.message, e.code);
    throw e;
  } finally {
    await pool.closeAll();
  }
  return ticket;
}

/** Prints the file (--print), or writes it 0600 into a fresh folder and opens it with the viewer. */
async function deliver(vmName: string, ticket: Ticket, o: ConsoleOptions): Promise<void> {
  if (o.print) {
    process.stdout.write(o.output === 'json' ? `${JSON.stringify({ ...summary(ticket), viewerFile: ticket.viewerFile })}\n` : ticket.viewerFile);
    if (ticket.tunnel && o.output !== 'json') process.stderr.write(`the console port is on the node's loopback: run \`${ticket.tunnel}\` first\n`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'vk-console-'));
  const file = join(dir, `${vmName}.vv`);
  await writeFile(file, ticket.viewerFile, { mode: 0o600 });
  const viewer = findExecutable(o.viewer);
  // A port behind a tunnel cannot be opened before the tunnel is up: that is left to the user.
  const opened = !!viewer && !ticket.tunnel;
  if (o.output === 'json') process.stdout.write(`${JSON.stringify({ file, ...summary(ticket), opened })}\n`);
  else process.stdout.write(`${file}\n`);
  const until = `valid until ${ticket.expiresAt}`;
  if (ticket.tunnel) process.stderr.write(`${ticket.protocol.toUpperCase()} console (${until}): run \`${ticket.tunnel}\`, then \`${o.viewer} ${file}\`\n`);
  else if (!viewer) process.stderr.write(`${ticket.protocol.toUpperCase()} console (${until}): ${o.viewer} is not installed (Debian: apt install virt-viewer); open ${file} with a viewer\n`);
  if (opened && viewer) {
    process.stderr.write(`opening ${ticket.protocol.toUpperCase()} console of ${vmName} with ${o.viewer} (${until})\n`);
    const child = spawn(viewer, [file], { detached: true, stdio: 'ignore' });
    child.on('error', (e) => process.stderr.write(`error: cannot start ${o.viewer}: ${e.message} [VK_VIEWER]\n`));
    child.unref();
  }
}
