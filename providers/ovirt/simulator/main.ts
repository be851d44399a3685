// `virtkeeper sim ovirt`: runs an engine simulator until interrupted. Prints one JSON line
// with its URL and credentials; --write-hypervisor writes a ready-to-apply manifest.
import { parseArgs } from 'node:util';
import { loadStateFile, runUntilSignal, writeHypervisorManifest } from '../../simulator-kit.ts';
import { startOvirtSimulator } from './index.ts';

const USAGE = `usage: virtkeeper sim ovirt [--name e15-test] [--port N] [--hosts 2] [--templates centos-9,redos-8]
         [--latency MS] [--jitter MS] [--fault-share SHARE] [--image-copy-ms MS] [--password PW]
         [--state FILE] [--write-hypervisor FILE]

Example:
  virtkeeper sim ovirt --name e15-test --write-hypervisor e15.yaml
`;

export async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string', default: 'engine' },
      port: { type: 'string' },
      hosts: { type: 'string', default: '2' },
      templates: { type: 'string', default: 'centos-9,redos-8' },
      latency: { type: 'string' },
      jitter: { type: 'string' },
      'fault-share': { type: 'string' },
      'image-copy-ms': { type: 'string' },
      password: { type: 'string' },
      state: { type: 'string' },
      'write-hypervisor': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void process.stdout.write(USAGE);
  const sim = await startOvirtSimulator({
    name: v.name ?? 'engine',
    hosts: Number(v.hosts),
    templates: (v.templates ?? '').split(',').filter(Boolean),
    ...(v.port ? { port: Number(v.port) } : {}),
    ...(v.latency ? { latencyMs: Number(v.latency) } : {}),
    ...(v.jitter ? { jitterMs: Number(v.jitter) } : {}),
    ...(v['fault-share'] ? { faults: { errorShare: Number(v['fault-share']) } } : {}),
    ...(v['image-copy-ms'] ? { imageCopyMs: Number(v['image-copy-ms']) } : {}),
    ...(v.password ? { password: v.password } : {}),
  });
  await loadStateFile(sim, v.state);
  if (v['write-hypervisor']) {
    await writeHypervisorManifest(v['write-hypervisor'], {
      name: v.name ?? 'engine',
      credentials: sim.credentials,
      spec: { type: 'ovirt', endpoint: sim.url, defaults: { cluster: 'Default', storageDomain: 'data1', datacenter: 'Default' } },
    });
  }
  process.stdout.write(`${JSON.stringify({ url: sim.url, ...sim.credentials })}\n`);
  await runUntilSignal(sim, v.state);
}

if (import.meta.main) await main(process.argv.slice(2));
