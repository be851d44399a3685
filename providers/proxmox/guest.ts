// The QEMU guest agent on Proxmox: a command runs through `agent/exec` and is polled with
// `agent/exec-status` until it exits; nothing runs in a VM whose marker does not name target.owner.
import type { Target } from '../../controller/core/actions.ts';
import { ProviderLockedError } from '../../controller/core/errors.ts';
import type { ExecOptions, ExecResult, GuestClient } from '../../controller/core/provider.ts';
import { growingInterval, pollUntil } from '../kit/poll.ts';
import type { ProxmoxContext } from './context.ts';

type ExecStatus = { exited: number; exitcode?: number; 'out-data'?: string; 'err-data'?: string };

export class ProxmoxGuest implements GuestClient {
  private readonly c: ProxmoxContext;
  constructor(c: ProxmoxContext) {
    this.c = c;
  }

  async exec(target: Target, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const { vmid, node, config } = await this.c.locate(target);
    // Nothing runs in a VM whose marker does not name this resource: ids are reused.
    this.c.checkOwner(target, config);
    const path = `/nodes/${node}/qemu/${vmid}/agent`;
    const { pid } = await this.c.api.post<{ pid: number }>(`${path}/exec`, { command, ...(options.input !== undefined ? { 'input-data': options.input } : {}) });
    const st = await pollUntil<ExecStatus>({
      what: `command in ${target.name}`,
      read: () => this.c.api.get<ExecStatus>(`${path}/exec-status`, { pid }),
      done: (x) => !!x.exited,
      describe: () => 'running',
      intervalMs: growingInterval({ minMs: 50, maxMs: 1000 }),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      onTimeout: () => new ProviderLockedError(`command still running in ${target.name} after ${options.timeoutMs} ms (pid ${pid})`),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { exitCode: st.exitcode ?? 0, stdout: st['out-data'] ?? '', stderr: st['err-data'] ?? '' };
  }
}
