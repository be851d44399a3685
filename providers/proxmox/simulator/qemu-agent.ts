// The guest agent: interfaces, OS info and exec, answering only once a started VM's agent is up.
import { ANY, INT, PveError, type Route } from './http.ts';
import type { SimVM } from './model.ts';
import { findVM, type QemuEnv } from './qemu-common.ts';

function guestIP(vm: SimVM): string {
  const m = /ip=([0-9.]+)\/\d+/.exec(vm.config.ipconfig0 ?? '');
  return m?.[1] ?? `10.99.${(vm.vmid >> 8) & 255}.${vm.vmid & 255}`;
}

export function agentRoutes(env: QemuEnv): Route[] {
  const s = env.state;
  const agent = (vm: SimVM) => {
    if (vm.status !== 'running' || !/^1|enabled=1/.test(vm.config.agent ?? '0') || Date.now() - (vm.startedAt ?? 0) < env.agentDelayMs) throw new PveError(500, 'QEMU guest agent is not running');
  };
  return [
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces',
      handler: ({ path }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        agent(vm);
        const hw = /=([0-9A-F:]{17})/i.exec(vm.config.net0 ?? '')?.[1]?.toLowerCase() ?? '00:00:00:00:00:00';
        return {
          result: [
            { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }] },
            { name: 'eth0', 'hardware-address': hw, 'ip-addresses': [{ 'ip-address': guestIP(vm), 'ip-address-type': 'ipv4', prefix: 24 }] },
          ],
        };
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/agent/get-osinfo',
      handler: ({ path }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        agent(vm);
        return { result: { id: 'ubuntu', name: 'Ubuntu', 'pretty-name': 'Ubuntu 24.04 LTS', 'kernel-release': '6.8.0-31-generic', machine: 'x86_64' } };
      },
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/agent/exec',
      required: ['command'],
      params: { command: ANY, 'input-data': ANY },
      handler: ({ path, params }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        agent(vm);
        const pid = s().nextPid++;
        const argv = (params.command ?? '').split(/\0|\s+/).filter(Boolean);
        const r = emulateCommand(vm, argv, params['input-data'] ?? '');
        s().agentExec.push({ pid, vmid: vm.vmid, ...r, doneAt: Date.now() + r.durationMs });
        return { pid };
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/agent/exec-status',
      required: ['pid'],
      params: { pid: INT },
      handler: ({ path, params }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        agent(vm);
        const e = s().agentExec.find((x) => x.pid === Number(params.pid) && x.vmid === vm.vmid);
        if (!e) throw new PveError(500, `Agent error: no such process ${params.pid}`);
        if (Date.now() < e.doneAt) return { exited: 0 };
        return { exited: 1, exitcode: e.exitcode, ...(e.out ? { 'out-data': e.out } : {}), ...(e.err ? { 'err-data': e.err } : {}) };
      },
    },
  ];
}

function emulateCommand(vm: SimVM, argv: string[], input: string): { out: string; err: string; exitcode: number; durationMs: number } {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'hostname':
      return { out: `${vm.config.name ?? 'localhost'}\n`, err: '', exitcode: 0, durationMs: 0 };
    case 'echo':
      return { out: `${args.join(' ')}\n`, err: '', exitcode: 0, durationMs: 0 };
    case 'cat':
      return args.length === 0 ? { out: input, err: '', exitcode: 0, durationMs: 0 } : { out: '', err: `cat: ${args[0]}: No such file or directory\n`, exitcode: 1, durationMs: 0 };
    case 'uname':
      return { out: args.includes('-a') ? `Linux ${vm.config.name} 6.8.0-31-generic #31-Ubuntu SMP x86_64 GNU/Linux\n` : 'Linux\n', err: '', exitcode: 0, durationMs: 0 };
    case 'sleep':
      return { out: '', err: '', exitcode: 0, durationMs: Number(args[0] ?? 1) * 1000 };
    case 'true':
      return { out: '', err: '', exitcode: 0, durationMs: 0 };
    case 'false':
      return { out: '', err: '', exitcode: 1, durationMs: 0 };
    default:
      return { out: '', err: `sh: 1: ${cmd}: not found\n`, exitcode: 127, durationMs: 0 };
  }
}
