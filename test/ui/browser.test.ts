// The inventory in a real headless Chromium (Debian's chromium, driven by playwright-core),
// served by `virtkeeper run --ui` over the quickstart fleet on the simulators, an unmanaged VM
// on each, and a libvirt VM when VK_LIBVIRT_URI_1 is set. VK_UI_SCREENSHOTS=DIR keeps
// screenshots of the inventory and a VM page there (docs/ holds the ones in the repository).
import { execFileSync, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Controller, type Fleet, PREFIX, ROOT, startController, startFleet, until } from './fleet.ts';

const exe = process.env.VK_CHROMIUM;
const shots = process.env.VK_UI_SCREENSHOTS;

describe.skipIf(!exe)('the inventory page in Chromium', () => {
  let fleet: Fleet;
  let ctl: Controller;
  let browser: Browser;
  let page: Page;

  const rows = async () => (await page.locator('#vms tbody tr td:nth-child(5)').allTextContents()).map((s) => s.trim());

  beforeAll(async () => {
    fleet = await startFleet();
    ctl = await startController(fleet, ['--max-delete-share', '1', '--delete-grace', '0s']);
    browser = await chromium.launch({ executablePath: exe, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (fleet?.libvirt && ctl) {
      // The libvirt VM lives on a shared host: it goes before the controller stops.
      await writeFile(
        join(fleet.folder, 'libvirt.yaml'),
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec:\n  type: libvirt\n  hosts: [{name: h1, uri: "${fleet.libvirt.uri}"}]\n  resyncInterval: 2s\n`,
      );
      const vm = fleet.libvirt.vm;
      await until(
        'the libvirt VM removed',
        async () => !((await (await fetch(`${ctl.url}api/v1/vms?hypervisor=kvm`)).json()) as { items: { name: string }[] }).items.some((v) => v.name === vm),
        150_000,
      ).catch((e: unknown) => console.error((e as Error).message));
    }
    await ctl?.stop();
    await fleet?.close();
  }, 200_000);

  it('shows the quickstart fleet and the unmanaged VMs of every hypervisor', async () => {
    const expected = ['web-1', 'db-1', fleet.unmanaged.pve, fleet.unmanaged.ovirt, ...(fleet.libvirt ? [fleet.libvirt.vm] : [])];
    let seen: string[] = [];
    await until(
      'every VM in the inventory',
      async () => {
        await page.goto(ctl.url);
        seen = await rows();
        return expected.every((n) => seen.includes(n));
      },
      80_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: missing ${expected.filter((n) => !seen.includes(n)).join(', ')}; log: ${ctl.stderr().slice(-1500)}`);
    });
    const legacy = page.locator('#vms tbody tr', { hasText: fleet.unmanaged.ovirt });
    await expect(legacy.locator('td:nth-child(11)').textContent()).resolves.toBe('unmanaged');
    await expect(legacy.locator('td:nth-child(3)').textContent()).resolves.toBe('Default / Default');
    await expect(legacy.locator('td:nth-child(2)').textContent()).resolves.toBe('ovirt');
    // Disk and network throughput once two observations with counters are in (the Proxmox simulator's move).
    await until('web-1 throughput', async () => {
      await page.goto(ctl.url);
      return /\/s ⇅/.test((await page.locator('#vms tbody tr', { hasText: 'web-1' }).locator('td:nth-child(16)').textContent()) ?? '');
    });
    await expect(page.locator('[data-hypervisor-count="pve-sim"]').textContent()).resolves.toBe('3');
  }, 90_000);

  it('narrows by combined filters that live in the URL and survive a reload', async () => {
    await page.goto(ctl.url);
    await Promise.all([page.waitForURL(/hypervisor=pve-sim/), page.selectOption('select[name=hypervisor]', 'pve-sim')]);
    expect((await rows()).sort()).toEqual(['db-1', 'web-1', fleet.unmanaged.pve].sort());
    await Promise.all([page.waitForURL(/managed=false/), page.selectOption('select[name=managed]', 'false')]);
    expect(await rows()).toEqual([fleet.unmanaged.pve]);
    await page.reload();
    expect(await rows()).toEqual([fleet.unmanaged.pve]);
    await expect(page.locator('select[name=hypervisor]').inputValue()).resolves.toBe('pve-sim');
    await page.goto(`${ctl.url}?q=web`);
    expect(await rows()).toEqual(['web-1']);
  });

  it('sorts by a column when its header is clicked', async () => {
    await page.goto(`${ctl.url}?hypervisor=pve-sim&managed=true`);
    await Promise.all([page.waitForURL(/sort=memory/), page.click('th a:text("Memory")')]);
    expect(await rows()).toEqual(['web-1', 'db-1']);
    await Promise.all([page.waitForURL(/desc=1/), page.click('th a:text("Memory")')]);
    expect(await rows()).toEqual(['db-1', 'web-1']);
  });

  it('shows a VM with its spec, live state, conditions and a usage chart of the last hour', async () => {
    await until(
      'two usage samples of web-1, with its spec and conditions',
      async () => {
        await page.goto(`${ctl.url}vms/pve-sim/web-1`);
        // The page reads status records at most every 5 s: spec and conditions may come a little after the samples.
        if ((await page.locator('pre.spec').count()) === 0 || (await page.locator('table.conditions').count()) === 0) return false;
        // Screenshots for docs/ wait for a longer line.
        return Number(await page.locator('.charts').getAttribute('data-samples', { timeout: 5000 })) >= (shots ? 5 : 2);
      },
      shots ? 200_000 : 60_000,
    );
    await expect(page.locator('pre.spec').textContent()).resolves.toContain('template: ubuntu-24.04');
    await expect(page.locator('table.conditions').textContent()).resolves.toContain('Ready');
    expect(await page.locator('.charts figure').count()).toBe(6);
    expect(await page.locator('.charts figure').first().locator('path.line').count()).toBe(1);
    if (shots) {
      await page.screenshot({ path: join(shots, 'vm.png'), fullPage: true });
      await page.goto(ctl.url);
      await page.screenshot({ path: join(shots, 'inventory.png'), fullPage: true });
      await page.goto(`${ctl.url}vms/pve-sim/web-1`);
    }
    await page.goto(`${ctl.url}nodes`);
    expect(await page.locator('section[data-hypervisor="pve-sim"] tr[data-node]').count()).toBe(3);
  }, 240_000);

  it('puts usage gauges on /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${ctl.metricsPort}/metrics`)).text();
    expect(text).toMatch(/virtkeeper_node_cpu_ratio\{hypervisor="pve-sim",node="pve1"\} [\d.]+/);
    expect(text).toMatch(/virtkeeper_vm_cpu_ratio\{hypervisor="pve-sim",node="pve\d",vm="web-1",owner="default\/web-1"\} [\d.]+/);
    expect(text).toMatch(/virtkeeper_vm_memory_used_bytes\{hypervisor="pve-sim",node="pve\d",vm="web-1",owner="default\/web-1"\} \d+/);
  });

  it('shows an uploaded request with its plan, and accepted, writes and commits it, and the controller converges it', async () => {
    const name = `${PREFIX}-billing-01`;
    const doc = `REQ-${PREFIX}`;
    const req = [
      {
        meta: { document_num: doc, inf_system: 'billing', owner: 'ivanov' },
        ovirt: { engine: 'e15-test', cluster: 'Default', storage_domain: 'data1' },
        vm: { name, cores: 1, memory: 1, disks: [{ size: 10, type: 'os' }], template: 'centos-9', nic_name: 'eth0' },
        vlan: { name: 'vlan130', id: 130 },
      },
      { meta: { document_num: doc }, ovirt: { engine: 'e99' }, vm: { name: `${PREFIX}-nope`, memory: 1 } },
    ];
    const file = join(fleet.folder, `${PREFIX}-request.json.upload`);
    await writeFile(file, JSON.stringify(req));
    await page.goto(`${ctl.url}requests`);
    await page.setInputFiles('input[name=jsonfile]', file);
    await Promise.all([page.waitForURL(/\/requests$/), page.click('#upload button')]);
    const plan = await page.locator('#plan').textContent();
    expect(plan).toMatch(new RegExp(`VirtualMachine billing/${name}e15-testcreatehost\\d`));
    expect(plan).toContain('VLAN 130: a new network');
    expect(plan).toContain('unknown engine e99');
    expect(await page.locator('#accept').count()).toBe(0);

    await writeFile(file, JSON.stringify(req.slice(0, 1)));
    await page.goto(`${ctl.url}requests`);
    await page.setInputFiles('input[name=jsonfile]', file);
    await Promise.all([page.waitForURL(/\/requests$/), page.click('#upload button')]);
    await Promise.all([page.waitForURL(/accept$/), page.click('#accept button')]);
    await expect(page.locator('#accepted').textContent()).resolves.toContain('committed');
    const written = await readFile(join(fleet.folder, 'requests', `${doc}.yaml`), 'utf8');
    expect(written).toContain(`name: ${name}`);
    expect(execFileSync('git', ['-C', fleet.folder, 'log', '-1', '--format=%s'], { encoding: 'utf8' })).toContain(doc);
    await until(
      'the accepted VM converged on the oVirt engine',
      async () => {
        const r = (await (await fetch(`${ctl.url}api/v1/vms/e15-test/${name}`)).json()) as { vm?: { owner?: { key: string }; plan: string } };
        return r.vm?.owner?.key === `VirtualMachine/billing/${name}` && r.vm.plan === 'in sync';
      },
      90_000,
    );
    expect(fleet.ovirt.dump().networks.some((n) => n.vlan === 130)).toBe(true);
  }, 150_000);
});

describe('inventory listeners', () => {
  it('refuses a non-loopback listener without --ui-token-file', async () => {
    const proc = spawn(process.execPath, ['bin/virtkeeper.js', 'ui', '-f', join(ROOT, 'examples', 'quickstart'), '--listen', '0.0.0.0:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => proc.once('exit', r));
    expect(code).not.toBe(0);
    expect(err).toContain('--ui-token-file');
    expect(err).toContain('VK_UI_TOKEN_REQUIRED');
  });
});
