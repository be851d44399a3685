// The ovirt.ovirt Ansible collection against the engine simulator: each playbook run converges,
// the same run again reports changed=0, and the VM is read back through the official SDK.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';

const playbook = process.env.VK_ANSIBLE_PLAYBOOK;
const python = process.env.VK_ANSIBLE_PYTHON;
const run = promisify(execFile);
const GiB = 2 ** 30;

describe.skipIf(!playbook || !python)('ovirt.ovirt against the engine simulator', () => {
  let sim: RunningOvirtSimulator;
  let dir: string;
  const name = `ans-${process.pid}`;

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'ansible', hosts: 2, templates: ['centos-9'], imageCopyMs: 100, bootStepMs: 20 });
    dir = await mkdtemp(join(tmpdir(), 'vk-ansible-ovirt-'));
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** One playbook run; the variables go in a file so the password never sits on a command line. */
  const play = async (vars: Record<string, string>): Promise<{ changed: number; failed: number; out: string }> => {
    const file = join(dir, 'vars.json');
    await writeFile(
      file,
      JSON.stringify({ engine_url: sim.url, engine_user: sim.credentials.username, engine_password: sim.credentials.password, vm_name: name, ansible_python_interpreter: python, ...vars }),
      { mode: 0o600 },
    );
    const env = {
      ...process.env,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_LOCALHOST_WARNING: 'False',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
      ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
      ANSIBLE_HOME: join(dir, 'home'),
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
    };
    const r = await run(playbook ?? '', ['-i', 'localhost,', '-c', 'local', join(import.meta.dirname, 'ansible', 'ovirt-vm.yml'), '-e', `@${file}`], { env, timeout: 120_000 }).catch(
      (e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
    );
    const recap = /localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/.exec(r.stdout);
    if (!recap) throw new Error(`no play recap:\n${r.stdout}\n${r.stderr}`);
    return { changed: Number(recap[1]), failed: Number(recap[2]), out: r.stdout };
  };
  const check = async () =>
    JSON.parse((await run(python ?? '', [join(import.meta.dirname, 'ansible', 'ovirt-check.py'), sim.url, sim.credentials.username, sim.credentials.password, name])).stdout) as Record<
      string,
      unknown
    >;

  it('creates from a template with cloud-init and runs it, changes its memory live, finds it by search, removes it; each run again changes nothing', async () => {
    const create = await play({ vm_memory: '2GiB', vm_state: 'running' });
    expect([create.failed, create.changed > 0], create.out).toEqual([0, true]);
    expect(await play({ vm_memory: '2GiB', vm_state: 'running' })).toMatchObject({ failed: 0, changed: 0 });
    const made = await check();
    expect(made).toMatchObject({ count: 1, status: 'up', memory: 2 * GiB, max: 8 * GiB, cores: 2, template: 'centos-9', cluster: 'Default', data_center: 'Default', disks: [true] });
    expect(['host1', 'host2']).toContain(made.host);
    // cloud-init went with the start (a run-once): the guest gets the hostname and user.
    expect(sim.dump().vms.find((v) => v.name === name)?.initialization).toMatchObject({ host_name: `${name}.example.test`, user_name: 'ops' });

    const grow = await play({ vm_memory: '3GiB', vm_state: 'running' });
    expect([grow.failed, grow.changed], grow.out).toEqual([0, 1]);
    expect(await play({ vm_memory: '3GiB', vm_state: 'running' })).toMatchObject({ failed: 0, changed: 0 });
    // 1 GiB more is four 256 MiB steps: hot-plugged, no next-run configuration.
    expect(await check()).toMatchObject({ count: 1, status: 'up', memory: 3 * GiB });
    expect(sim.dump().vms.find((v) => v.name === name)?.next_run).toBeUndefined();

    const remove = await play({ vm_memory: '3GiB', vm_state: 'absent' });
    expect([remove.failed, remove.changed], remove.out).toEqual([0, 1]);
    expect(await play({ vm_memory: '3GiB', vm_state: 'absent' })).toMatchObject({ failed: 0, changed: 0 });
    expect(await check()).toEqual({ count: 0 });
    expect([sim.dump().vms.length, sim.dump().disks.length]).toEqual([0, 0]);
  }, 240_000);
});
