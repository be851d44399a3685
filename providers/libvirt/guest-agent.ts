// The QEMU guest agent, through libvirt's QEMU program: guest addresses for observation,
// commands run in the guest, and file-system freeze/thaw for consistent snapshots. Nothing
// runs in a domain whose marker does not name the resource asking.
import type { Target } from '../../controller/core/actions.ts';
import { ProviderTransientError, VkError } from '../../controller/core/errors.ts';
import type { ExecOptions, ExecResult, GuestClient } from '../../controller/core/provider.ts';
import { growingInterval, pollUntil } from '../kit/index.ts';
import type { Hosts } from './hosts.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import type { Domain } from './rpc/protocol.ts';

/** The guest has no agent that answers: what a quiesce or an exec needs. */
export class GuestAgentMissingError extends VkError {
  override readonly code = 'VK_GUEST_AGENT_MISSING';
  override readonly kind = 'invalid';
}

/** The addresses a guest agent reports, loopback and link-local left out, IPv4 first. */
export function guestAddresses(agentReply: string | undefined): string[] {
  type Iface = { name?: string; 'ip-addresses'?: { 'ip-address': string; 'ip-address-type': string }[] };
  const ifaces = ((JSON.parse(agentReply ?? '{}') as { return?: Iface[] }).return ?? []).filter((i) => i.name !== 'lo');
  const all = ifaces.flatMap((i) => i['ip-addresses'] ?? []).filter((a) => !/^(127\.|::1$|fe80:)/i.test(a['ip-address']));
  return [...all.filter((a) => a['ip-address-type'] === 'ipv4'), ...all.filter((a) => a['ip-address-type'] !== 'ipv4')].map((a) => a['ip-address']);
}

const agent = async <T>(c: LibvirtConnection, d: Domain, execute: string, args?: unknown, timeoutSec?: number): Promise<T | undefined> =>
  (JSON.parse((await c.agentCommand(d, JSON.stringify({ execute, ...(args ? { arguments: args } : {}) }), timeoutSec)) ?? '{}') as { return?: T }).return;

export async function fetchGuestAddresses(c: LibvirtConnection, d: Domain): Promise<string[]> {
  return guestAddresses(await c.agentCommand(d, JSON.stringify({ execute: 'guest-network-get-interfaces' }), 2));
}

/** Proves the agent answers (guest-ping) before something depends on it; says what to do when not. */
export async function requireAgent(c: LibvirtConnection, d: Domain, vm: string, hasChannel: boolean, forWhat: string): Promise<void> {
  const fix = `install and start qemu-guest-agent in the guest (and set guestAgent: true on the VM), or ${forWhat === 'a quiesced snapshot' ? 'set quiesce: false' : 'do without it'}`;
  if (!hasChannel) throw new GuestAgentMissingError(`VM ${vm} has no guest agent channel, which ${forWhat} needs; ${fix}`);
  await agent(c, d, 'guest-ping', undefined, 5).catch((e: unknown) => {
    throw new GuestAgentMissingError(`the guest agent of VM ${vm} does not answer (${(e as Error).message}), and ${forWhat} needs it; ${fix}`);
  });
}

export class LibvirtGuest implements GuestClient {
  private readonly hosts: Hosts;

  constructor(hosts: Hosts) {
    this.hosts = hosts;
  }

  async exec(target: Target, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const { c, d } = await this.hosts.locateOwned(target, 'nothing is run in it');
    const [path, ...arg] = command;
    const started = await agent<{ pid?: number }>(c, d, 'guest-exec', {
      path,
      arg,
      'capture-output': true,
      ...(options.input !== undefined ? { 'input-data': Buffer.from(options.input).toString('base64') } : {}),
    });
    const pid = started?.pid;
    if (pid === undefined) throw new ProviderTransientError('the guest agent did not start the command');
    type Status = { exited?: boolean; exitcode?: number; 'out-data'?: string; 'err-data'?: string };
    const st = await pollUntil<Status | undefined>({
      what: `command ${pid} in ${target.name}`,
      read: () => agent<Status>(c, d, 'guest-exec-status', { pid }),
      done: (x) => !!x?.exited,
      describe: () => 'running',
      intervalMs: growingInterval({ minMs: 50, maxMs: 1000 }),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      onTimeout: () => new ProviderTransientError(`command still running in ${target.name} after ${options.timeoutMs} ms (pid ${pid})`),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const b64 = (x: string | undefined) => (x ? Buffer.from(x, 'base64').toString('utf8') : '');
    return { exitCode: st?.exitcode ?? 0, stdout: b64(st?.['out-data']), stderr: b64(st?.['err-data']) };
  }

  async freeze(target: Target): Promise<number> {
    const { c, d, parsed } = await this.hosts.locateOwned(target, 'its file systems are not frozen');
    await requireAgent(c, d, target.name, parsed.guestAgent, 'a file-system freeze');
    return (await agent<number>(c, d, 'guest-fsfreeze-freeze', undefined, 60)) ?? 0;
  }

  async thaw(target: Target): Promise<void> {
    const { c, d } = await this.hosts.locateOwned(target, 'its file systems are not thawed');
    await agent<number>(c, d, 'guest-fsfreeze-thaw', undefined, 60);
  }
}
