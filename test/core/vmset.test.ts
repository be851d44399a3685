import { describe, expect, it } from 'vitest';
import { parseManifestText } from '../../controller/api/manifest.ts';
import { validateDocuments } from '../../controller/api/validate.ts';
import { checkMembers, expandSet, poolForUser, userPart } from '../../controller/core/vmset.ts';
import type { VirtualMachineSet } from '../../controller/api/types.ts';
import { loadTexts } from '../../controller/sources/load-folder.ts';

const set = (users: string[], namePattern?: string): VirtualMachineSet => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'VirtualMachineSet',
  metadata: { name: 'course' },
  spec: { users, ...(namePattern ? { namePattern } : {}), template: { hypervisor: 'pve', memory: '1Gi' } },
});

describe('VirtualMachineSet members', () => {
  it('keeps the realm: alice@pve and alice@pam are two members in two pools', () => {
    const m = expandSet(set(['alice@pve', 'alice@pam']));
    expect(m.map((x) => [x.metadata.name, x.spec.pool])).toEqual([
      ['alice-course', 'stand-alice'],
      ['alice-pam-course', 'stand-alice-pam'],
    ]);
  });

  it('maps users one to one, into valid VM and pool names', () => {
    const users = [
      'alice@pve',
      'alice@pam',
      'alice-pam@pve',
      'alice@pam-x',
      'Alice@pve',
      'alice@PVE',
      'a.b@pve',
      'a-b@pve',
      'a_b@pve',
      'a@b_pve',
      'x@y',
      'x-y@pve',
      '_@pve',
      '-@pve',
      'alice@ldap',
      'alice-ldap@pve',
    ];
    const parts = users.map(userPart);
    expect(new Set(parts).size).toBe(users.length);
    for (const u of users) {
      expect(poolForUser(u)).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
      expect(userPart(u)).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    }
    expect(new Set(expandSet(set(users)).map((x) => x.metadata.name)).size).toBe(users.length);
  });

  const load = (files: Record<string, string>) => loadTexts(new Map(Object.entries(files)));
  const hv = 'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "https://pve.example:8006"}\n';
  const vm = (name: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, memory: 2Gi}\n`;
  const setDoc = (users: string, pattern = '{user}-{name}') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSet\nmetadata: {name: course}\nspec:\n  users: [${users}]\n  namePattern: "${pattern}"\n  template: {hypervisor: pve, memory: 1Gi}\n`;

  it('a member with the name of a VirtualMachine: both refused, each naming the other, neither replaces the other', () => {
    const r = load({ 'hv.yaml': hv, 'vm.yaml': vm('alice-course'), 'set.yaml': setDoc('alice@pve, bob@pve') });
    expect(r.resources.map((x) => x.key)).toEqual(['Hypervisor/pve']);
    expect([...r.brokenFiles].sort()).toEqual(['set.yaml', 'vm.yaml']);
    expect(r.problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([
      'set.yaml:3: duplicate name: VirtualMachine default/alice-course (a member of VirtualMachineSet default/course for user alice@pve) is also VirtualMachine default/alice-course at vm.yaml:3; neither is applied: change spec.namePattern or the other name',
      'vm.yaml:3: duplicate name: VirtualMachine default/alice-course is also VirtualMachine default/alice-course (a member of VirtualMachineSet default/course for user alice@pve) at set.yaml:3; neither is applied: rename one of them',
    ]);
  });

  it('members of one set that would share a name are refused', () => {
    const r = load({ 'hv.yaml': hv, 'set.yaml': setDoc('alice@pve, alice@pam', '{name}') });
    expect(r.resources.map((x) => x.key)).toEqual(['Hypervisor/pve']);
    expect(r.problems[0]?.message).toMatch(
      /^duplicate name: VirtualMachine default\/course \(a member of VirtualMachineSet default\/course for user alice@pve\) is also VirtualMachine default\/course \(a member of VirtualMachineSet default\/course for user alice@pam\)/,
    );
  });

  it('a set whose members collide with nothing passes', () => {
    const docs = parseManifestText('a.yaml', `${hv}---\n${setDoc('alice@pve, alice@pam')}---\n${vm('web')}`).documents;
    const r = checkMembers(validateDocuments(docs).resources);
    expect([r.accepted.length, r.problems]).toEqual([3, []]);
  });
});
