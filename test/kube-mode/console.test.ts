// The Kubernetes-mode console on a real kube-apiserver: the controller (a separate process bound
// only by manifests/rbac.yaml, sharded to this suite's Hypervisor) serves its console endpoint
// over TLS; `virtkeeper console --kubeconfig` with a ServiceAccount token from the TokenRequest
// API gets a file whose VNC ticket the Proxmox simulator accepts, when a RoleBinding to
// virtkeeper-console-user allows it. Without it 403, without a token 401, an unknown VM 404;
// the ticket is in no controller log line, nor in the VM's status or Events.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { type RunningProxmoxSimulator, startProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { kubectlWith } from '../support/kubectl.ts';
import { until } from '../support/until.ts';
import { parseViewerFile, spiceConnect } from '../support/viewer-file.ts';

const root = join(import.meta.dirname, '..', '..');
const admin = process.env.VK_KUBECONFIG ?? '';
const controllerConfig = process.env.VK_KUBECONFIG_CONTROLLER ?? '';
const kubectl = kubectlWith(admin);
const id = `vkc-${Date.now().toString(36)}`;
const ns = id;
const path = (vm: string, namespace = ns) => `/apis/subresources.virtkeeper.io/v1alpha1/namespaces/${namespace}/virtualmachines/${vm}/console`;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (e, out, err) => (e ? reject(new Error(err || e.message)) : resolve(out))));
}

describe.skipIf(!admin)('virtkeeper console --kubeconfig on a real kube-apiserver', () => {
  let sim: RunningProxmoxSimulator;
  let controller: ChildProcess;
  let dir: string;
  let endpoint: string;
  const logs: string[] = [];
  const kubeconfigs: Record<string, string> = {};
  const cli = (args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const p = execFile(process.execPath, ['bin/virtkeeper.js', ...args], { cwd: root }, (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }));
      p.stdin?.end();
    });
  /** A kubeconfig for the cluster of the admin one, whose user is only a bearer token. */
  const tokenConfig = async (name: string, token: string) => {
    const doc = parse(await readFile(admin, 'utf8')) as { clusters: unknown[] };
    const file = join(dir, `${name}.kubeconfig`);
    await writeFile(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: doc.clusters,
        users: [{ name, user: { token } }],
        contexts: [{ name: 'vk', context: { cluster: 'vk', user: name } }],
        'current-context': 'vk',
      }),
      { mode: 0o600 },
    );
    return file;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${id}-`));
    // The endpoint's own certificate, from a CA of this test (given to the CLI with --controller-ca).
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-subj', '/CN=vk-console-test-ca', '-days', '1', '-out', join(dir, 'ca.crt')]);
    await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'tls.key'), '-subj', '/CN=127.0.0.1', '-out', join(dir, 'tls.csr')]);
    await writeFile(join(dir, 'tls.ext'), 'subjectAltName=IP:127.0.0.1\n');
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      join(dir, 'tls.csr'),
      '-CA',
      join(dir, 'ca.crt'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      join(dir, 'tls.ext'),
      '-out',
      join(dir, 'tls.crt'),
    ]);

    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 0, qmclone: 0 }, agentDelayMs: 0 });
    await kubectl(['apply', '-f', 'crds/']);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await kubectl(['apply', '-f', 'manifests/namespace.yaml', '-f', 'manifests/serviceaccount.yaml', '-f', 'manifests/rbac.yaml', '-f', 'manifests/console-user.yaml']);
    await kubectl(['create', 'namespace', ns]);
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Secret
metadata: {name: ${id}-pve, namespace: virtkeeper-system, labels: {virtkeeper.io/credentials: "true"}}
stringData: {username: ${JSON.stringify(sim.credentials.username)}, password: ${JSON.stringify(sim.credentials.password)}}
---
apiVersion: virtkeeper.io/v1alpha1
kind: Hypervisor
metadata: {name: ${id}, labels: {vk-console-test: ${id}}}
spec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {name: ${id}-pve, namespace: virtkeeper-system}, resyncInterval: 5s}
---
apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: desk, namespace: ${ns}}
spec: {hypervisor: ${id}, template: ubuntu-24.04, memory: 1Gi}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-console, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: virtkeeper-console-user}
subjects: [{kind: ServiceAccount, name: alice, namespace: ${ns}}]
`,
    );
    await kubectl(['-n', ns, 'create', 'serviceaccount', 'alice']);
    await kubectl(['-n', ns, 'create', 'serviceaccount', 'bob']);
    kubeconfigs.alice = await tokenConfig('alice', (await kubectl(['-n', ns, 'create', 'token', 'alice', '--duration', '20m'])).trim());
    kubeconfigs.bob = await tokenConfig('bob', (await kubectl(['-n', ns, 'create', 'token', 'bob', '--duration', '20m'])).trim());

    controller = spawn(
      process.execPath,
      [
        'bin/virtkeeper.js',
        'run',
        '--kubeconfig',
        controllerConfig,
        '--namespace',
        'virtkeeper-system',
        '--health-port',
        '0',
        '--hypervisor-selector',
        `vk-console-test=${id}`,
        '--console-listen',
        '127.0.0.1:0',
        '--console-tls-cert',
        join(dir, 'tls.crt'),
        '--console-tls-key',
        join(dir, 'tls.key'),
      ],
      { cwd: root, env: { ...process.env, VK_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const s of [controller.stdout, controller.stderr]) s?.on('data', (d: Buffer) => logs.push(d.toString()));
    endpoint = await until(
      'the console endpoint published',
      async () => {
        const url = await kubectl(['-n', 'virtkeeper-system', 'get', 'configmap', 'virtkeeper-console', '-o', 'jsonpath={.data.url}']).catch(() => '');
        return url.startsWith('https://127.0.0.1:') && logs.join('').includes(url) ? url : undefined;
      },
      60_000,
    );
    await until('desk Running', async () => (await kubectl(['-n', ns, 'get', 'vkvm', 'desk', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000);
  }, 180_000);

  afterAll(async () => {
    controller?.kill('SIGKILL');
    // The simulator goes with this process: no controller could finish the finalizer.
    await kubectl(['-n', ns, 'patch', 'vkvm', 'desk', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
    await kubectl(['-n', ns, 'delete', 'vkvm', 'desk', '--ignore-not-found', '--wait=false']).catch(() => undefined);
    await kubectl(['delete', 'hv', id, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    await kubectl(['-n', 'virtkeeper-system', 'delete', 'secret', `${id}-pve`, '--ignore-not-found']).catch(() => undefined);
    await kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('gives a user with the console role a file whose VNC ticket the simulator accepts, and the ticket is nowhere else', async () => {
    // The endpoint's URL comes from ConfigMap virtkeeper-console; its certificate is checked against --controller-ca.
    const r = await cli(['console', 'desk', '-n', ns, '--kubeconfig', kubeconfigs.alice ?? '', '--controller-ca', join(dir, 'ca.crt'), '--protocol', 'vnc', '--print']);
    expect(r.code, r.err).toBe(0);
    const f = parseViewerFile(r.out);
    expect(f).toMatchObject({ type: 'vnc', host: '127.0.0.1', 'delete-this-file': '1' });
    const vmid = sim.dump().vms.find((v) => v.config.name === 'desk')?.vmid;
    const api = new ProxmoxClient({ endpoint: sim.url, credentials: { username: sim.credentials.username, password: sim.credentials.password } });
    try {
      expect(await api.get(`/nodes/pve1/qemu/${vmid}/vncwebsocket`, { port: f.port ?? '', vncticket: f.password ?? '' })).toEqual({ port: f.port });
    } finally {
      await api.close();
    }
    // The audit line names the user and the VM; nothing of the controller's output, the VM's status or Events holds the ticket.
    await until('the audit line', () => logs.join('').includes('console ticket issued'));
    const audit =
      logs
        .join('')
        .split('\n')
        .find((l) => l.includes('console ticket issued')) ?? '';
    expect(audit).toContain(`system:serviceaccount:${ns}:alice`);
    const secret = (f.password ?? '').split('::')[1] ?? 'missing';
    const seen = [logs.join(''), await kubectl(['-n', ns, 'get', 'vkvm', 'desk', '-o', 'json']), await kubectl(['-n', ns, 'get', 'events.events.k8s.io', '-o', 'json']), r.err];
    const token = (parse(await readFile(kubeconfigs.alice ?? '', 'utf8')) as { users: { user: { token: string } }[] }).users[0]?.user.token ?? 'missing';
    for (const text of seen) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(f.password ?? 'missing');
      // Nor the caller's bearer token.
      expect(text).not.toContain(token.slice(-40));
    }
  });

  it('gives the same SPICE file as directory mode for a qxl VM: proxy ticket and password accepted', async () => {
    const state = sim.dump();
    const vm = state.vms.find((v) => v.config.name === 'desk');
    if (vm) vm.config.vga = 'qxl';
    sim.load(state);
    const r = await cli(['console', 'desk', '-n', ns, '--kubeconfig', kubeconfigs.alice ?? '', '--controller-ca', join(dir, 'ca.crt'), '--print', '--ttl', '20s']);
    expect(r.code, r.err).toBe(0);
    const f = parseViewerFile(r.out);
    expect(f.type).toBe('spice');
    expect(await spiceConnect(f.proxy ?? '', f.host ?? '', f['tls-port'] ?? '')).toBe(200);
    expect(sim.sim.consoles.spiceLogin(vm?.vmid ?? 0, f.password ?? '')).toBe(true);
  });

  it('refuses a token without the role (403), no token or a bad one (401), and a VM it does not know (404)', async () => {
    const bob = await cli(['console', 'desk', '-n', ns, '--kubeconfig', kubeconfigs.bob ?? '', '--controller', endpoint, '--controller-ca', join(dir, 'ca.crt'), '--print']);
    expect(bob.code).toBe(1);
    expect(bob.err).toContain(`system:serviceaccount:${ns}:bob may not create virtualmachines/console (virtkeeper.io) in namespace ${ns}`);
    expect(bob.err).toContain('[VK_CONSOLE_FORBIDDEN]');
    // The role is bound in ns only: another namespace is refused before the VM is looked up.
    const elsewhere = await cli(['console', 'desk', '-n', 'default', '--kubeconfig', kubeconfigs.alice ?? '', '--controller-ca', join(dir, 'ca.crt'), '--print']);
    expect(elsewhere.err).toContain('[VK_CONSOLE_FORBIDDEN]');
    const unknown = await cli(['console', 'no-such-vm', '-n', ns, '--kubeconfig', kubeconfigs.alice ?? '', '--controller-ca', join(dir, 'ca.crt'), '--print']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain(`this controller knows no VirtualMachine ${ns}/no-such-vm`);
    expect(unknown.err).toContain('[VK_CONSOLE_NOT_FOUND]');

    // The HTTP answers themselves: status and a JSON body with a stable code.
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent({ connect: { ca: await readFile(join(dir, 'ca.crt'), 'utf8') } });
    const post = async (p: string, headers: Record<string, string> = {}) => {
      const res = await request(`${endpoint}${p}`, { method: 'POST', dispatcher, headers, body: '{}' });
      return { status: res.statusCode, body: (await res.body.json()) as { code: string; message: string }, auth: res.headers['www-authenticate'] };
    };
    try {
      expect(await post(path('desk'))).toMatchObject({ status: 401, body: { code: 'VK_CONSOLE_UNAUTHENTICATED' }, auth: 'Bearer' });
      expect(await post(path('desk'), { authorization: 'Bearer not-a-token' })).toMatchObject({ status: 401, body: { code: 'VK_CONSOLE_UNAUTHENTICATED' } });
      const alice = (parse(await readFile(kubeconfigs.alice ?? '', 'utf8')) as { users: { user: { token: string } }[] }).users[0]?.user.token ?? '';
      expect(await post(path('nope'), { authorization: `Bearer ${alice}` })).toMatchObject({ status: 404, body: { code: 'VK_CONSOLE_NOT_FOUND' } });
      const bobToken = (parse(await readFile(kubeconfigs.bob ?? '', 'utf8')) as { users: { user: { token: string } }[] }).users[0]?.user.token ?? '';
      expect(await post(path('desk'), { authorization: `Bearer ${bobToken}` })).toMatchObject({ status: 403, body: { code: 'VK_CONSOLE_FORBIDDEN' } });
    } finally {
      await dispatcher.close();
    }
  });

  it('reviews every request afresh: a removed RoleBinding counts at once, a wrong CA is said', async () => {
    const args = ['console', 'desk', '-n', ns, '--kubeconfig', kubeconfigs.alice ?? '', '--controller-ca', join(dir, 'ca.crt'), '--print'];
    expect((await cli(args)).code).toBe(0);
    await kubectl(['-n', ns, 'delete', 'rolebinding', 'alice-console']);
    await until('alice refused once her RoleBinding is gone', async () => (await cli(args)).err.includes('[VK_CONSOLE_FORBIDDEN]'), 30_000);
    // The endpoint's certificate is not of the kubeconfig's cluster CA: refused, and said where to look.
    const wrongCa = await cli(['console', 'desk', '-n', ns, '--kubeconfig', kubeconfigs.alice ?? '', '--print']);
    expect(wrongCa.code).toBe(1);
    expect(wrongCa.err).toMatch(/cannot reach the console endpoint https:\/\/127\.0\.0\.1:\d+: .*--controller-ca \[VK_CONSOLE_UNREACHABLE\]/);
  });

  it('a controller whose RBAC lacks the review rules says to apply manifests/rbac.yaml, and still starts', async () => {
    // manifests/rbac.yaml without the rules the console adds, bound to a ServiceAccount of this suite.
    const docs = (await readFile(join(root, 'manifests', 'rbac.yaml'), 'utf8')).split(/^---$/m).map((d) => parse(d) as { kind: string; rules?: { apiGroups: string[]; resources: string[] }[] });
    const addedForConsole = (r: { apiGroups: string[]; resources: string[] }) =>
      r.apiGroups.some((g) => g.startsWith('authentication') || g.startsWith('authorization')) || r.resources.includes('configmaps');
    const clusterRole = docs.find((d) => d.kind === 'ClusterRole');
    const role = docs.find((d) => d.kind === 'Role');
    const bare = (d: typeof clusterRole, metadata: Record<string, string>) => stringify({ ...d, metadata, rules: (d?.rules ?? []).filter((r) => !addedForConsole(r)) });
    await kubectl(['-n', ns, 'create', 'serviceaccount', 'old-rbac']);
    await kubectl(
      ['apply', '-f', '-'],
      `${bare(clusterRole, { name: `${id}-old-rbac` })}---
${bare(role, { name: `${id}-old-rbac`, namespace: 'virtkeeper-system' })}---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ${id}-old-rbac}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${id}-old-rbac}
subjects: [{kind: ServiceAccount, name: old-rbac, namespace: ${ns}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${id}-old-rbac, namespace: virtkeeper-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${id}-old-rbac}
subjects: [{kind: ServiceAccount, name: old-rbac, namespace: ${ns}}]
`,
    );
    const config = await tokenConfig('old-rbac', (await kubectl(['-n', ns, 'create', 'token', 'old-rbac', '--duration', '20m'])).trim());
    const oldLogs: string[] = [];
    // It serves no Hypervisor: the reviews come before any lookup.
    const old = spawn(
      process.execPath,
      ['bin/virtkeeper.js', 'run', '--kubeconfig', config, '--health-port', '0', '--hypervisor-selector', `vk-console-test=${id}-none`, '--console-listen', '127.0.0.1:0'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    for (const s of [old.stdout, old.stderr]) s?.on('data', (d: Buffer) => oldLogs.push(d.toString()));
    try {
      const url = await until('the old controller listening', () => /"console":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(oldLogs.join(''))?.[1], 60_000);
      expect(oldLogs.join('')).toContain(
        `cannot publish the console URL in ConfigMap virtkeeper-system/virtkeeper-console; apply manifests/rbac.yaml again; clients need --controller ${url} meanwhile`,
      );
      const r = await cli(['console', 'desk', '-n', ns, '--kubeconfig', kubeconfigs.bob ?? '', '--controller', url, '--print']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('the controller may not create tokenreviews: apply manifests/rbac.yaml again');
      expect(r.err).toContain('[VK_CONSOLE_REVIEW_DENIED]');
      // The other controller's URL is still the published one.
      expect(await kubectl(['-n', 'virtkeeper-system', 'get', 'configmap', 'virtkeeper-console', '-o', 'jsonpath={.data.url}'])).toBe(endpoint);
    } finally {
      old.kill('SIGKILL');
      await kubectl(['delete', 'clusterrolebinding,clusterrole', `${id}-old-rbac`, '--ignore-not-found']).catch(() => undefined);
      await kubectl(['-n', 'virtkeeper-system', 'delete', 'rolebinding,role', `${id}-old-rbac`, '--ignore-not-found']).catch(() => undefined);
    }
  });

  it('says to use a token when the kubeconfig has only a client certificate', async () => {
    const r = await cli(['console', 'desk', '-n', ns, '--kubeconfig', admin, '--print']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('has only a client certificate');
    expect(r.err).toContain('kubectl create token');
    expect(r.err).toContain('[VK_CONSOLE_NO_TOKEN]');
  });
});
