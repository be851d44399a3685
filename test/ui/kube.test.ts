// Kubernetes mode serves the inventory from the controller too (manifests/ui-service.yaml in a
// cluster): a controller bound by manifests/rbac.yaml on the real kube-apiserver, with --ui,
// shows the VMs of its Hypervisor's simulator; intake creates through the API server once
// manifests/ui/rbac-intake.yaml lets it.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { kubectlWith } from '../support/kubectl.ts';
import { PREFIX, ROOT, until } from './fleet.ts';

const admin = process.env.VK_KUBECONFIG ?? '';
const controllerConfig = process.env.VK_KUBECONFIG_CONTROLLER ?? '';
const kubectl = kubectlWith(admin);
const hv = `${PREFIX}-pve`;

describe.skipIf(!admin)('the inventory in Kubernetes mode', () => {
  let sim: RunningProxmoxSimulator;
  const proc = { current: undefined as ReturnType<typeof spawn> | undefined };
  let err = '';
  let url = '';
  const vmName = `${PREFIX}-kreq`;

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'] });
    const { tokenId, tokenSecret } = sim.credentials;
    await fetch(`${sim.url}/api2/json/nodes/pve1/qemu`, {
      method: 'POST',
      headers: { authorization: `PVEAPIToken=${tokenId}=${tokenSecret}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ vmid: '901', name: `${PREFIX}-kube-legacy`, memory: '512' }),
    });
    await kubectl(['apply', '-f', 'crds/']);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await kubectl(['apply', '-f', 'manifests/namespace.yaml', '-f', 'manifests/serviceaccount.yaml', '-f', 'manifests/rbac.yaml']);
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1\nkind: Secret\nmetadata: {name: ${hv}, namespace: virtkeeper-system, labels: {virtkeeper.io/credentials: "true"}}\nstringData: {username: "${sim.credentials.username}", password: "${sim.credentials.password}"}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}, labels: {virtkeeper.io/test: ${PREFIX}}}\nspec:\n  type: proxmox\n  endpoint: ${sim.url}\n  credentialsRef: {name: ${hv}, namespace: virtkeeper-system}\n  resyncInterval: 2s\n`,
    );
    // Only this suite's Hypervisor: the apiserver is shared with other suites' controllers.
    proc.current = spawn(
      process.execPath,
      ['bin/virtkeeper.js', 'run', '--kubeconfig', controllerConfig, '--health-port', '0', '--hypervisor-selector', `virtkeeper.io/test=${PREFIX}`, '--instance', PREFIX, '--ui', '127.0.0.1:0'],
      { cwd: ROOT, env: { ...process.env, VK_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.current.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  }, 120_000);

  afterAll(async () => {
    proc.current?.kill('SIGKILL');
    await kubectl(['patch', 'vkvm', vmName, '-n', 'default', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
    await kubectl(['delete', 'vkvm', vmName, '-n', 'default', '--ignore-not-found', '--wait=false']).catch(() => undefined);
    await kubectl(['delete', '-f', 'manifests/ui/rbac-intake.yaml', '--ignore-not-found']).catch(() => undefined);
    await kubectl(['patch', 'hv', hv, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
    await kubectl(['delete', 'hv', hv, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    await kubectl(['-n', 'virtkeeper-system', 'delete', 'secret', hv, '--ignore-not-found']).catch(() => undefined);
    await sim?.close();
  });

  it('has a Service, an Ingress and a Deployment patch the API server takes', async () => {
    expect(await kubectl(['apply', '--dry-run=server', '-f', 'manifests/ui/service.yaml', '-f', 'manifests/ui/ingress.yaml', '-f', 'manifests/ui/rbac-intake.yaml'])).toContain(
      'service/virtkeeper-ui',
    );
    const patched = await kubectl(['patch', '--local', '-f', 'manifests/deployment.yaml', '--patch-file', 'manifests/ui/deployment-patch.yaml', '-o', 'json']);
    const c = (JSON.parse(patched) as { spec: { template: { spec: { containers: { args: string[]; ports: { name: string }[] }[] } } } }).spec.template.spec.containers[0];
    expect(c?.args.join(' ')).toContain('--ui 0.0.0.0:8090 --ui-token-file /etc/virtkeeper/ui/token');
    expect(c?.ports.map((p) => p.name)).toEqual(['health', 'ui']);
    await kubectl(['apply', '--dry-run=server', '-f', '-'], patched);
  });

  it('lists the VMs of its Hypervisor', async () => {
    url = await until('the inventory URL', async () => /"url":"(http:[^"]+)"/.exec(err)?.[1], 60_000);
    const items = await until(
      'the unmanaged VM in the inventory',
      async () => {
        const r = (await (await fetch(`${url}api/v1/vms?hypervisor=${hv}`)).json()) as { items: { name: string; managed: boolean }[] };
        return r.items.some((v) => v.name === `${PREFIX}-kube-legacy`) && r.items;
      },
      60_000,
    );
    expect(items.find((v) => v.name === `${PREFIX}-kube-legacy`)?.managed).toBe(false);
  }, 120_000);

  it('creates an accepted request through the API server, once the controller may, and converges it', async () => {
    const request = JSON.stringify({ meta: { document_num: `REQ-${PREFIX}` }, ovirt: { engine: hv }, vm: { name: vmName, cores: 1, memory: 1, disks: [{ size: 10 }], template: 'ubuntu-24.04' } });
    const send = async () => {
      const form = new FormData();
      form.set('jsonfile', new Blob([request]), 'r.json');
      form.set('accept', 'true');
      return fetch(`${url}api/v1/requests`, { method: 'POST', body: form });
    };
    const refused = await send();
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'VK_UI_INTAKE_FORBIDDEN',
      message: expect.stringContaining('manifests/ui/rbac-intake.yaml'),
    });
    await kubectl(['apply', '-f', 'manifests/ui/rbac-intake.yaml']);
    const accepted = (await until('the request accepted', async () => {
      const r = await send();
      return r.status === 200 && ((await r.json()) as { accepted?: { created: string[] } });
    })) as { accepted?: { created: string[] } };
    expect(accepted.accepted?.created).toEqual([`VirtualMachine default/${vmName}`]);
    const annotations = JSON.parse(await kubectl(['get', 'vkvm', vmName, '-n', 'default', '-o', 'jsonpath={.metadata.annotations}'])) as Record<string, string>;
    expect(annotations['virtkeeper.io/request']).toBe(`REQ-${PREFIX}`);
    await until('the VM made on the simulator', async () => sim.dump().vms.some((v) => v.config.name === vmName), 60_000);
  }, 150_000);
});
