// `virtkeeper sim proxmox`: runs the simulator until interrupted. Prints one JSON line with
// its URL and credentials; --write-hypervisor writes a ready-to-apply Hypervisor manifest.
import { parseArgs } from 'node:util';
import { loadStateFile, runUntilSignal, writeHypervisorManifest } from '../../simulator-kit.ts';
import { startProxmoxSimulator } from './index.ts';

const USAGE = `usage: virtkeeper sim proxmox [--port 8006] [--nodes 3] [--templates ubuntu-24.04,redos-8]
         [--latency MS] [--jitter MS] [--fault-500 SHARE] [--fault-lock SHARE] [--fault-drop SHARE]
         [--fail 'POST /nodes/{node}/qemu/{vmid}/config=N' ...] [--task-ms MS] [--clone-ms MS] [--user root@pam --password PW] [--tls] [--state FILE] [--write-hypervisor FILE]

Example:
  virtkeeper sim proxmox --nodes 3 --templates ubuntu-24.04,redos-8 --write-hypervisor hv.yaml
  virtkeeper sim proxmox --clone-ms 0 --task-ms 0 --fail 'POST /nodes/{node}/qemu/{vmid}/config=20'
`;

/** `--fail 'POST /nodes/{node}/qemu/{vmid}/config=3'`: that route fails its next 3 requests. */
function failures(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of list) {
    const m = /^(GET|POST|PUT|DELETE) (\/\S*)=(\d+)$/.exec(f.trim());
    if (!m) throw new Error(`--fail ${f}: expected 'METHOD /route/pattern=COUNT', e.g. 'POST /nodes/{node}/qemu/{vmid}/config=3'`);
    out[`${m[1]} ${m[2]}`] = Number(m[3]);
  }
  return out;
}

export async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      nodes: { type: 'string', default: '3' },
      templates: { type: 'string', default: 'ubuntu-24.04,redos-8' },
      latency: { type: 'string' },
      jitter: { type: 'string' },
      'fault-500': { type: 'string' },
      'fault-lock': { type: 'string' },
      'fault-drop': { type: 'string' },
      fail: { type: 'string', multiple: true },
      'task-ms': { type: 'string' },
      'clone-ms': { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      state: { type: 'string' },
      'write-hypervisor': { type: 'string' },
      name: { type: 'string', default: 'pve-sim' },
      tls: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    process.stdout.write(USAGE);
    return;
  }
  const num = (x: string | undefined) => (x === undefined ? undefined : Number(x));
  const sim = await startProxmoxSimulator({
    ...(v.port ? { port: Number(v.port) } : {}),
    nodes: Number(v.nodes),
    templates: (v.templates ?? '').split(',').filter(Boolean),
    ...(v.latency ? { latencyMs: Number(v.latency) } : {}),
    ...(v.jitter ? { jitterMs: Number(v.jitter) } : {}),
    faults: { error500Share: num(v['fault-500']) ?? 0, lockTimeoutShare: num(v['fault-lock']) ?? 0, dropShare: num(v['fault-drop']) ?? 0, fail: failures(v.fail ?? []) },
    taskDurations: { ...(v['task-ms'] ? { default: Number(v['task-ms']) } : {}), ...(v['clone-ms'] ? { qmclone: Number(v['clone-ms']) } : {}) },
    ...(v.user && v.password ? { username: v.user, password: v.password } : {}),
    ...(v.tls ? { tls: true } : {}),
  });
  await loadStateFile(sim, v.state);
  if (v['write-hypervisor']) {
    await writeHypervisorManifest(v['write-hypervisor'], {
      name: v.name ?? 'pve-sim',
      credentials: { username: sim.credentials.username, password: sim.credentials.password },
      spec: { type: 'proxmox', endpoint: sim.url, ...(sim.caBundle ? { tls: { caBundle: sim.caBundle } } : {}), defaults: { node: 'pve1', storage: 'local-lvm', bridge: 'vmbr0' } },
    });
  }
  process.stdout.write(
    `${JSON.stringify({ url: sim.url, username: sim.credentials.username, password: sim.credentials.password, tokenId: sim.credentials.tokenId, tokenSecret: sim.credentials.tokenSecret })}\n`,
  );
  await runUntilSignal(sim, v.state);
}

if (import.meta.main) await main(process.argv.slice(2));
