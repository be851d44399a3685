import { describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../controller/api/types.ts';
import { rightsOf, type Tenancy } from '../../controller/core/tenancy.ts';

const hv = (spec: Partial<Hypervisor['spec']> = {}): Hypervisor => ({ apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'pve' }, spec: { type: 'proxmox', ...spec } });

describe('what a namespace may do on a Hypervisor', () => {
  it.each<{ name: string; spec: Partial<Hypervisor['spec']>; ns: string; tenancy: Tenancy; use: boolean; adopt: boolean; grantPools: boolean }>([
    { name: 'directory mode, nothing set: everything', spec: {}, ns: 'default', tenancy: 'directory', use: true, adopt: true, grantPools: true },
    { name: 'Kubernetes, nothing set: use, but neither adopt nor grant', spec: {}, ns: 'team-a', tenancy: 'kubernetes', use: true, adopt: false, grantPools: false },
    { name: 'allowedNamespaces set: a namespace not listed may do nothing', spec: { allowedNamespaces: ['team-a'] }, ns: 'team-b', tenancy: 'directory', use: false, adopt: false, grantPools: false },
    { name: 'allowedNamespaces set: a listed namespace uses it', spec: { allowedNamespaces: ['team-a'] }, ns: 'team-a', tenancy: 'kubernetes', use: true, adopt: false, grantPools: false },
    {
      name: 'Kubernetes: adoption and grants only where listed',
      spec: { allowAdoption: { namespaces: ['ops'] }, allowPoolGrants: { namespaces: ['courses'] } },
      ns: 'ops',
      tenancy: 'kubernetes',
      use: true,
      adopt: true,
      grantPools: false,
    },
    { name: 'directory mode: a list narrows adoption too', spec: { allowAdoption: { namespaces: ['ops'] } }, ns: 'default', tenancy: 'directory', use: true, adopt: false, grantPools: true },
    {
      name: 'listed for adoption but not allowed at all: nothing',
      spec: { allowedNamespaces: ['x'], allowAdoption: { namespaces: ['ops'] } },
      ns: 'ops',
      tenancy: 'kubernetes',
      use: false,
      adopt: false,
      grantPools: false,
    },
  ])('$name', (c) => {
    expect(rightsOf(hv(c.spec), c.ns, c.tenancy)).toEqual({ use: c.use, adopt: c.adopt, grantPools: c.grantPools });
  });
});
