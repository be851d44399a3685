// Kubernetes mode end to end on a real kube-apiserver (scripts/provision/kube.sh) with
// kubectl 1.32, the controller as a separate process bound only by manifests/rbac.yaml,
// and the Proxmox simulator over HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { kubectlWith } from '../support/kubectl.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { until as untilWithin } from '../support/until.ts';

// Kubernetes round trips under CI load: a minute by default.
const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => untilWithin(what, fn, ms);

const root = join(import.meta.dirname, '..', '..');
const admin = process.env.VK_KUBECONFIG ?? '';
const controllerConfig = process.env.VK_KUBECONFIG_CONTROLLER ?? '';

const kubectl = kubectlWith(admin);

// The suite deletes most of what it makes, so its controllers run with the guard off; the
// guard has a test of its own below, on a controller with the defaults.
function startController(extra: string[] = ['--leader-elect', '--max-delete-share', '1']): ChildProcess {
  const p = spawn(process.execPath, ['bin/virtkeeper.js', 'run', '--kubeconfig', controllerConfig, '--namespace', 'virtkeeper-system', '--health-port', '0', ...extra], {
    cwd: root,
    env: { ...process.env, VK_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  p.stderr?.on('data', (d: Buffer) => {
    logs.push(d.toString());
  });
  return p;
}
const logs: string[] = [];

const vm = (name: string, extra = '') => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: default}
spec:
  hypervisor: pve
  template: ubuntu-24.04
  memory: 1Gi
  maxMemory: 4Gi
  disks: [{name: root, size: 10Gi}]
${extra}`;

/** A Secret the controller may use: labelled virtkeeper.io/credentials=true (unless `labelled` is false). */
const credentialsSecret = (name: string, username: string, password: string, labelled = true) => `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: virtkeeper-system
${labelled ? '  labels: {virtkeeper.io/credentials: "true"}\n' : ''}stringData: {username: ${JSON.stringify(username)}, password: ${JSON.stringify(password)}}
`;

describe.skipIf(!admin)('Kubernetes mode on a real kube-apiserver', () => {
  let sim: RunningProxmoxSimulator;
  const controllers: ChildProcess[] = [];
  const simVMs = () => sim.dump().vms.filter((v) => !v.template);

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 20, qmclone: 60 }, agentDelayMs: 200 });
    await kubectl(['apply', '-f', 'crds/']);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await kubectl(['apply', '-f', 'manifests/namespace.yaml', '-f', 'manifests/serviceaccount.yaml', '-f', 'manifests/rbac.yaml']);
    await kubectl(['apply', '-f', '-'], credentialsSecret('pve-credentials', sim.credentials.username, sim.credentials.password));
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: virtkeeper.io/v1alpha1
kind: Hypervisor
metadata: {name: pve}
spec:
  type: proxmox
  endpoint: ${sim.url}
  credentialsRef: {name: pve-credentials, namespace: virtkeeper-system}
  resyncInterval: 5s
`,
    );
    controllers.push(startController(), startController());
  }, 120_000);

  afterAll(async () => {
    for (const c of controllers) c.kill('SIGKILL');
    // The cluster outlives this run: remove this suite's objects, or the next run's fresh
    // simulator gets last run's VMs. Their simulator goes with this process, so no controller
    // could finish their finalizers: those are dropped first.
    const own: [string, string[]][] = [
      ['vkvm', ['web-1', 'keep-1', 'shrinky', 'after-rotation', 'disk-host', 'after-failover', 'shard-a-vm', 'shard-b-vm']],
      ['vkdisk', ['scratch']],
      ['vktpl', ['ubuntu-big']],
      ['hv', ['pve-b']],
    ];
    for (const [kind, names] of own) {
      for (const name of names) {
        await kubectl(['patch', kind, name, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
        await kubectl(['delete', kind, name, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      }
    }
    await sim?.close();
  }, 120_000);

  it('the CRDs are served with short names and the virtkeeper category; CEL refuses a disk shrink', async () => {
    expect(await kubectl(['get', 'virtkeeper', '-A'])).toMatch(/hypervisor\.virtkeeper\.io\/pve/);
    await kubectl(['apply', '-f', '-'], vm('shrinky'));
    const err = await kubectl(['apply', '--dry-run=server', '-f', '-'], vm('shrinky').replace('size: 10Gi', 'size: 5Gi')).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(err).toMatch(/a disk size may never decrease/);
    const userinfo = await kubectl(
      ['apply', '--dry-run=server', '-f', '-'],
      'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: vk-inputs-userinfo}\nspec: {type: proxmox, endpoint: "https://admin:s3cret@pve.example:8006"}\n',
    ).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(userinfo).toMatch(/the URL carries a user name or password/);
    await kubectl(['delete', 'vkvm', 'shrinky', '--wait=false']);
    // The Deployment and the whole kustomization are accepted by the real API server.
    expect(await kubectl(['apply', '--dry-run=server', '-k', 'manifests/'])).toMatch(/deployment\.apps\/virtkeeper\S* (created|configured|unchanged) \(server dry run\)/);
  });

  it('creates VMs from kubectl apply, shows them in kubectl get, changes memory live, deletes and orphans', async () => {
    await kubectl(['apply', '-f', '-'], `${vm('web-1')}---\n${vm('keep-1', '  deletionPolicy: Orphan\n')}`);
    const line = await until('web-1 Running and Ready', async () => {
      const out = await kubectl(['get', 'vkvm', 'web-1', '--no-headers']);
      return /Running/.test(out) && /True/.test(out) && /\b\d+\.\d+\.\d+\.\d+\b/.test(out) ? out : undefined;
    });
    // HYPERVISOR NODE PHASE CPU MEMORY IP READY AGE
    expect(line).toMatch(/^web-1\s+pve\s+pve\d\s+Running\s+1\s+1Gi\s+\S+\s+True\s+/);
    expect(simVMs().filter((v) => v.config.name === 'web-1')).toHaveLength(1);
    const finalizers = await kubectl(['get', 'vkvm', 'web-1', '-o', 'jsonpath={.metadata.finalizers}']);
    expect(finalizers).toContain('virtkeeper.io/finalizer');

    await kubectl(['patch', 'vkvm', 'web-1', '--type=merge', '-p', '{"spec":{"memory":"2Gi"}}']);
    await until('memory 2Gi in status', async () => (await kubectl(['get', 'vkvm', 'web-1', '-o', 'jsonpath={.status.memory}'])) === '2Gi');
    const last = await kubectl(['get', 'vkvm', 'web-1', '-o', 'jsonpath={.status.lastAction}']);
    expect(last).toBe('reconfigure (live)');
    expect(simVMs().find((v) => v.config.name === 'web-1')?.config.memory).toBe('2048');

    await until('keep-1 Running', async () => /Running/.test(await kubectl(['get', 'vkvm', 'keep-1', '--no-headers'])));
    await kubectl(['delete', 'vkvm', 'web-1', 'keep-1', '--timeout=60s']);
    expect(simVMs().map((v) => v.config.name)).toEqual(['keep-1']);
    const events = await kubectl(['get', 'events.events.k8s.io', '-n', 'default', '-o', 'jsonpath={.items[*].reason}']);
    expect(events).toMatch(/CreateSucceeded/);

    // Prometheus metrics on the health port: the leader counted its reconciles and actions.
    const ports = logs
      .join('')
      .split('\n')
      .flatMap((l) => {
        try {
          const j = JSON.parse(l) as { msg?: string; health?: number };
          return j.msg === 'starting in Kubernetes mode' && j.health ? [j.health] : [];
        } catch {
          return [];
        }
      });
    expect(ports.length).toBeGreaterThan(0);
    const scraped = await Promise.all(
      ports.map((p) =>
        fetch(`http://127.0.0.1:${p}/metrics`)
          .then((r) => r.text())
          .catch(() => ''),
      ),
    );
    const all = scraped.join('\n');
    expect(all).toMatch(/^virtkeeper_reconcile_total\{kind="VirtualMachine",result="success"\} [1-9]/m);
    expect(all).toMatch(/^virtkeeper_actions_total\{action="create",result="success"\} [1-9]/m);
    expect(scraped.filter((t) => /^virtkeeper_leader 1$/m.test(t))).toHaveLength(1);
  });

  it('picks up a rotated Secret without a restart', async () => {
    // The engine's password changes, then the Secret: the controller must use the new one.
    const user = sim.sim.auth.users[0];
    if (user) user.password = 'rotated-Pa55word';
    sim.sim.auth.revokeTickets(); // the controller's ticket is void: only the new password works now
    await kubectl(['apply', '-f', '-'], credentialsSecret('pve-credentials', sim.credentials.username, 'rotated-Pa55word'));
    await kubectl(['apply', '-f', '-'], vm('after-rotation'));
    await until('after-rotation Running with the new credentials', async () => /Running/.test(await kubectl(['get', 'vkvm', 'after-rotation', '--no-headers'])), 60_000);
    expect(logs.join('')).not.toContain('rotated-Pa55word');
  }, 90_000);

  it('a Hypervisor naming an unlabelled Secret or a service-account token gets no credentials, and its endpoint hears nothing', async () => {
    // The endpoint a hostile manifest names: it records every request it is sent.
    const heard: string[] = [];
    const trap = createServer((req, res) => {
      heard.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    const hv = (name: string, secret: string) =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${name}}\nspec:\n  type: proxmox\n  endpoint: ${url}\n  credentialsRef: {name: ${secret}, namespace: virtkeeper-system}\n`;
    try {
      await kubectl(['apply', '-f', '-'], credentialsSecret('vk-inputs-unlabelled', 'someone@pve', 'not-for-virtkeeper', false));
      // A service-account token, even labelled, is never used.
      await kubectl(
        ['apply', '-f', '-'],
        `apiVersion: v1\nkind: Secret\ntype: kubernetes.io/service-account-token\nmetadata:\n  name: vk-inputs-sa-token\n  namespace: virtkeeper-system\n  labels: {virtkeeper.io/credentials: "true"}\n  annotations: {kubernetes.io/service-account.name: virtkeeper-controller}\nstringData: {token: sa-token-value}\n`,
      );
      await kubectl(['apply', '-f', '-'], `${hv('vk-inputs-unlabelled', 'vk-inputs-unlabelled')}---\n${hv('vk-inputs-sa', 'vk-inputs-sa-token')}`);
      const message = (name: string) => kubectl(['get', 'hv', name, '-o', "jsonpath={.status.conditions[?(@.type=='Ready')].message}"]);
      expect(await until('the unlabelled Secret refused', async () => (await message('vk-inputs-unlabelled')) || undefined)).toMatch(
        /Secret virtkeeper-system\/vk-inputs-unlabelled is not labelled for virtkeeper; .*kubectl -n virtkeeper-system label secret vk-inputs-unlabelled virtkeeper\.io\/credentials=true/,
      );
      expect(await until('the token Secret refused', async () => (await message('vk-inputs-sa')) || undefined)).toMatch(/is a service-account token, which virtkeeper never sends/);
      expect(heard).toEqual([]);
      expect(logs.join('')).not.toContain('not-for-virtkeeper');
    } finally {
      await kubectl(['delete', 'hv', 'vk-inputs-unlabelled', 'vk-inputs-sa', '--ignore-not-found', '--wait=false']);
      await kubectl(['-n', 'virtkeeper-system', 'delete', 'secret', 'vk-inputs-unlabelled', 'vk-inputs-sa-token', '--ignore-not-found']);
      trap.close();
    }
  }, 90_000);

  it('templates and disks: requirement conditions and attachments in kubectl get', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: virtkeeper.io/v1alpha1
kind: VMTemplate
metadata: {name: ubuntu-big}
spec: {hypervisor: pve, source: {existing: ubuntu-24.04}, require: {guestAgent: true, minDisk: 20Gi}}
---
${vm('disk-host')}---
apiVersion: virtkeeper.io/v1alpha1
kind: VirtualDisk
metadata: {name: scratch, namespace: default}
spec: {hypervisor: pve, size: 2Gi, storage: local-lvm, attachTo: {vm: disk-host}}
`,
    );
    // NAME HYPERVISOR ID READY REASON AGE
    const tpl = await until('ubuntu-big validated', async () => {
      const out = await kubectl(['get', 'vktpl', 'ubuntu-big', '--no-headers']);
      return /RequirementsNotMet/.test(out) ? out : undefined;
    });
    expect(tpl).toMatch(/^ubuntu-big\s+pve\s+qemu\/\d+\s+False\s+RequirementsNotMet\s+/);
    const minDisk = await kubectl(['get', 'vktpl', 'ubuntu-big', '-o', "jsonpath={.status.conditions[?(@.type=='MinDisk')].message}"]);
    expect(minDisk).toBe('disk is 8Gi, less than 20Gi');
    // NAME HYPERVISOR SIZE ATTACHED PHASE READY AGE
    const disk = await until(
      'scratch attached',
      async () => {
        const out = await kubectl(['get', 'vkdisk', 'scratch', '--no-headers']);
        return /Attached/.test(out) ? out : undefined;
      },
      60_000,
    );
    expect(disk).toMatch(/^scratch\s+pve\s+2Gi\s+disk-host\s+Attached\s+True\s+/);
    expect(simVMs().find((v) => v.config.name === 'disk-host')?.config).toEqual(expect.objectContaining({ virtio1: expect.stringMatching(/vkdisk-default-scratch-[0-9a-f]{10},size=2G$/) }));
    await kubectl(['delete', 'vkdisk', 'scratch', '--timeout=60s']);
    await kubectl(['delete', 'vktpl', 'ubuntu-big', 'vkvm/disk-host', '--timeout=60s']).catch(() => kubectl(['delete', 'vkvm', 'disk-host', '--timeout=60s']));
  }, 120_000);

  it('killing the leader hands over: the other replica finishes the work, nothing twice', async () => {
    const holder = await until('a lease held by one of our replicas', async () => {
      const h = await kubectl(['-n', 'virtkeeper-system', 'get', 'lease', 'virtkeeper-controller', '-o', 'jsonpath={.spec.holderIdentity}']);
      return controllers.some((c) => h.endsWith(`-${c.pid}`)) ? h : undefined;
    });
    const leader = controllers.find((c) => holder.endsWith(`-${c.pid}`));
    expect(leader).toBeDefined();
    leader?.kill('SIGKILL');
    await kubectl(['apply', '-f', '-'], vm('after-failover'));
    await until('after-failover Running under the new leader', async () => /Running/.test(await kubectl(['get', 'vkvm', 'after-failover', '--no-headers'])), 90_000);
    const newHolder = await kubectl(['-n', 'virtkeeper-system', 'get', 'lease', 'virtkeeper-controller', '-o', 'jsonpath={.spec.holderIdentity}']);
    expect(newHolder).not.toBe(holder);
    expect(simVMs().filter((v) => v.config.name === 'after-failover')).toHaveLength(1);
  }, 120_000);

  it('shards by --hypervisor-selector: a replica only reconciles the Hypervisors it selects', async () => {
    for (const c of controllers) c.kill('SIGKILL');
    const other = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 10 } });
    try {
      await kubectl(['label', 'hv', 'pve', 'shard=a', '--overwrite']);
      await kubectl(
        ['apply', '-f', '-'],
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve-b, labels: {shard: b}}\nspec:\n  type: proxmox\n  endpoint: ${other.url}\n  credentialsRef: {name: pve-credentials, namespace: virtkeeper-system}\n`,
      );
      controllers.push(startController(['--hypervisor-selector', 'shard=a']));
      await kubectl(['apply', '-f', '-'], `${vm('shard-a-vm')}---\n${vm('shard-b-vm').replace('hypervisor: pve', 'hypervisor: pve-b')}`);
      await until('shard-a-vm Running', async () => /Running/.test(await kubectl(['get', 'vkvm', 'shard-a-vm', '--no-headers'])), 60_000);
      // The replica that selects shard=a never touches shard b: no VM there, no status written.
      expect(other.dump().vms.filter((v) => !v.template)).toEqual([]);
      expect(await kubectl(['get', 'vkvm', 'shard-b-vm', '-o', 'jsonpath={.status}'])).toBe('');
    } finally {
      await other.close();
    }
  }, 120_000);
  it('the deletion guard holds back a mass delete; a namespace being deleted orphans; disks carry the finalizer', async () => {
    for (const c of controllers) c.kill('SIGKILL');
    const g = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 } });
    const ns = `vk-guard-${Date.now().toString(36)}`;
    const gVMs = () =>
      g
        .dump()
        .vms.filter((v) => !v.template)
        .map((v) => v.config.name ?? '')
        .sort();
    try {
      await kubectl(['apply', '-f', '-'], credentialsSecret('pve-g-credentials', g.credentials.username, g.credentials.password));
      await kubectl(
        ['apply', '-f', '-'],
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve-g, labels: {shard: g}}\nspec:\n  type: proxmox\n  endpoint: ${g.url}\n  credentialsRef: {name: pve-g-credentials, namespace: virtkeeper-system}\n`,
      );
      // Defaults: 30% or 1 per hypervisor within an hour.
      controllers.push(startController(['--hypervisor-selector', 'shard=g']));
      await kubectl(['create', 'namespace', ns]);
      const onG = (name: string, ns = 'default') => vm(name).replace('hypervisor: pve', 'hypervisor: pve-g').replace('namespace: default', `namespace: ${ns}`);
      await kubectl(['apply', '-f', '-'], ['mass-1', 'mass-2', 'mass-3', 'mass-4'].map((n) => onG(n)).join('---\n'));
      await kubectl(
        ['apply', '-f', '-'],
        `${onG('ns-vm', ns)}---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: ns-disk, namespace: ${ns}}\nspec: {hypervisor: pve-g, size: 2Gi, storage: local-lvm, attachTo: {vm: ns-vm}}\n`,
      );
      await until('six resources in place', async () => gVMs().length === 5 && /Attached/.test(await kubectl(['-n', ns, 'get', 'vkdisk', 'ns-disk', '--no-headers'])), 90_000);
      expect(await kubectl(['-n', ns, 'get', 'vkdisk', 'ns-disk', '-o', 'jsonpath={.metadata.finalizers}'])).toContain('virtkeeper.io/finalizer');

      // kubectl delete of four of the six: one may go (the allowance), the rest are held and say why.
      await kubectl(['delete', 'vkvm', 'mass-1', 'mass-2', 'mass-3', 'mass-4', '--wait=false']);
      const refused = await until(
        'the guard refusal in status',
        async () => {
          const out = await kubectl(['get', 'vkvm', '-o', "jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=='Ready')].reason}{'\\n'}{end}"]);
          const held = out.split('\n').filter((l) => /^mass-\d DeletionRefused$/.test(l));
          return held.length >= 3 ? held : undefined;
        },
        60_000,
      );
      expect(refused.length).toBeGreaterThanOrEqual(3);
      await new Promise((r) => setTimeout(r, 2000));
      expect(gVMs().filter((n) => n.startsWith('mass-')).length).toBeGreaterThanOrEqual(3);
      // The refusal says why: the counts on the hypervisor, and the flag to change.
      const heldName = refused[0]?.split(' ')[0] ?? '';
      expect(await kubectl(['get', 'vkvm', heldName, '-o', "jsonpath={.status.conditions[?(@.type=='Ready')].message}"])).toMatch(
        /^refusing \d+ removals of \d+ managed on (hypervisor pve-g|the fleet) within 1h .*--max-delete-share/,
      );

      // The namespace goes: its VM and disk are orphaned (left on the hypervisor), the finalizers released.
      await kubectl(['delete', 'namespace', ns, '--wait=false']);
      // The test bed runs no kube-controller-manager: do what its namespace controller does,
      // delete every object in the Terminating namespace.
      await kubectl(['-n', ns, 'delete', 'vkvm,vkdisk', '--all', '--wait=false']);
      await until('the objects of the namespace gone (finalizers released)', async () => (await kubectl(['-n', ns, 'get', 'vkvm,vkdisk', '-o', 'name'])).trim() === '', 90_000);
      expect(gVMs()).toContain('ns-vm');
      const nsVM = g.dump().vms.find((v) => v.config.name === 'ns-vm');
      expect(Object.values(nsVM?.config ?? {}).some((x) => x.includes('vkdisk'))).toBe(true);
    } finally {
      // Held objects are let go by hand (their VMs stay): the rest of the suite is unaffected.
      for (const n of ['mass-1', 'mass-2', 'mass-3', 'mass-4']) await kubectl(['patch', 'vkvm', n, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
      await g.close();
    }
  }, 240_000);
});
