// Cluster-wide and node endpoints: resources, nextid, nodes, storage, network, tasks,
// version, pools, ACLs and SDN.
import { ANY, BOOL, INT, NAME, PveError, paramError, type Route } from './http.ts';
import { diskSize, isDataDisk, type SimState } from './model.ts';
import { clusterVmRow, nodeRow, nodeStatus, PVE_VERSION } from './shapes.ts';
import type { Tasks } from './tasks.ts';

export function clusterRoutes(state: () => SimState, tasks: Tasks, certificate: () => string | undefined = () => undefined, now: () => number = Date.now): Route[] {
  const s = state;
  const node = (name: string | undefined) => {
    const n = s().nodes.find((x) => x.name === name);
    if (!n) throw new PveError(500, `no such cluster node '${name}'`);
    return n;
  };
  const nodeUse = (name: string) => {
    const vms = s().vms.filter((v) => v.node === name && v.status === 'running');
    return { mem: vms.reduce((a, v) => a + Number(v.config.memory ?? 512) * 2 ** 20, 0) + 4 * 2 ** 30, cpu: Math.min(1, 0.01 + vms.length * 0.01) };
  };
  return [
    { method: 'GET', pattern: '/version', handler: () => ({ ...PVE_VERSION }) },
    {
      method: 'GET',
      pattern: '/cluster/resources',
      params: { type: /^(vm|storage|node|sdn|pool)$/ },
      handler: ({ params }) => {
        const out: Record<string, unknown>[] = [];
        if (!params.type || params.type === 'vm') {
          for (const v of s().vms) out.push(clusterVmRow(v, now()));
        }
        if (!params.type || params.type === 'node') {
          for (const n of s().nodes) out.push(nodeRow(n, nodeUse(n.name), 'resources', certificate()));
        }
        if (!params.type || params.type === 'storage') {
          for (const n of s().nodes)
            for (const st of s().storages)
              out.push({
                id: `storage/${n.name}/${st.storage}`,
                type: 'storage',
                node: n.name,
                storage: st.storage,
                status: 'available',
                maxdisk: st.total,
                disk: usedOn(s(), n.name, st.storage),
                shared: st.shared ? 1 : 0,
                content: st.content,
                plugintype: st.type,
              });
        }
        return out;
      },
    },
    {
      method: 'GET',
      pattern: '/cluster/nextid',
      params: { vmid: INT },
      handler: ({ params }) => {
        const used = new Set(s().vms.map((v) => v.vmid));
        if (params.vmid) {
          if (used.has(Number(params.vmid))) throw paramError({ vmid: `VM ${params.vmid} already exists` });
          return params.vmid;
        }
        let id = 100;
        while (used.has(id)) id++;
        return String(id);
      },
    },
    {
      method: 'GET',
      pattern: '/cluster/status',
      handler: () => [
        { type: 'cluster', id: 'cluster', name: s().clusterName, nodes: s().nodes.length, quorate: 1, version: 3 },
        ...s().nodes.map((n, i) => ({ type: 'node', id: `node/${n.name}`, name: n.name, nodeid: i + 1, online: 1, local: i === 0 ? 1 : 0, ip: `127.0.0.1` })),
      ],
    },
    { method: 'GET', pattern: '/nodes', handler: () => s().nodes.map((n) => nodeRow(n, nodeUse(n.name), 'nodes', certificate())) },
    {
      method: 'GET',
      pattern: '/nodes/{node}/status',
      handler: ({ path }) => {
        const n = node(path.node);
        return nodeStatus(n, nodeUse(n.name));
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/storage',
      params: { content: ANY, storage: NAME, enabled: BOOL },
      handler: ({ path }) => {
        node(path.node);
        return s().storages.map((st) => ({
          storage: st.storage,
          type: st.type,
          content: st.content,
          total: st.total,
          used: usedOn(s(), path.node ?? '', st.storage),
          avail: st.total - usedOn(s(), path.node ?? '', st.storage),
          active: 1,
          enabled: 1,
          shared: st.shared ? 1 : 0,
        }));
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/network',
      params: { type: ANY },
      handler: ({ path }) =>
        node(path.node).bridges.map((b) => ({
          iface: b.iface,
          type: 'bridge',
          active: 1,
          autostart: 1,
          bridge_ports: 'eno1',
          bridge_stp: 'off',
          bridge_fd: '0',
          ...(b.vlanAware ? { bridge_vlan_aware: 1 } : {}),
          families: ['inet'],
          method: 'manual',
        })),
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/tasks',
      params: { limit: INT, vmid: INT, start: INT, source: ANY, typefilter: ANY, errors: BOOL, since: INT, until: INT },
      // As PVE: finished tasks only unless source=active|all, newest first, `limit` (50) from `start`.
      handler: ({ path, params }) =>
        [...tasks.all.values()]
          .filter((t) => t.node === path.node && (!params.vmid || t.id === params.vmid))
          .filter((t) => (params.source === 'all' ? true : params.source === 'active' ? t.status === 'running' : t.status === 'stopped'))
          .filter((t) => (!params.since || t.starttime >= Number(params.since)) && (!params.until || t.starttime <= Number(params.until)))
          .filter((t) => !params.typefilter || t.type === params.typefilter)
          .filter((t) => !(params.errors === '1' || params.errors === 'true') || (t.status === 'stopped' && t.exitstatus !== 'OK'))
          .reverse()
          .slice(Number(params.start ?? 0), Number(params.start ?? 0) + Number(params.limit ?? 50))
          .map((t) => ({
            upid: t.upid,
            node: t.node,
            type: t.type,
            id: t.id,
            user: t.user,
            starttime: t.starttime,
            status: t.status === 'stopped' ? t.exitstatus : undefined,
            ...(t.status === 'stopped' ? { endtime: Math.floor(t.endsAt / 1000) } : {}),
          })),
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/tasks/{upid}/status',
      handler: ({ path }) => {
        const t = tasks.get(decodeURIComponent(path.upid ?? ''));
        if (!t) throw new PveError(500, `no such task`);
        return {
          upid: t.upid,
          node: t.node,
          type: t.type,
          id: t.id,
          user: t.user,
          starttime: t.starttime,
          status: t.status,
          pid: Number.parseInt(t.upid.split(':')[2] ?? '0', 16),
          pstart: Number.parseInt(t.upid.split(':')[3] ?? '0', 16),
          ...(t.exitstatus ? { exitstatus: t.exitstatus } : {}),
        };
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/tasks/{upid}/log',
      params: { start: INT, limit: INT },
      handler: ({ path, params }) => {
        const t = tasks.get(decodeURIComponent(path.upid ?? ''));
        if (!t) throw new PveError(500, `no such task`);
        // As the node: lines from `start` (0-based), at most `limit` (default 50) of them.
        const start = Number(params.start ?? 0);
        const limit = Number(params.limit ?? 50);
        return t.log.slice(start, start + limit).map((line, i) => ({ n: start + i + 1, t: line }));
      },
    },
    { method: 'GET', pattern: '/pools', handler: () => s().pools.map((p) => ({ poolid: p.poolid, ...(p.comment ? { comment: p.comment } : {}) })) },
    {
      method: 'POST',
      pattern: '/pools',
      required: ['poolid'],
      params: { poolid: /^[A-Za-z0-9_.-]+$/, comment: ANY },
      handler: ({ params }) => {
        if (s().pools.some((p) => p.poolid === params.poolid)) throw new PveError(500, `create pool failed: pool '${params.poolid}' already exists`);
        s().pools.push({ poolid: params.poolid ?? '', ...(params.comment ? { comment: params.comment } : {}), members: [] });
        return null;
      },
    },
    {
      method: 'GET',
      pattern: '/pools/{poolid}',
      handler: ({ path }) => {
        const p = s().pools.find((x) => x.poolid === path.poolid);
        if (!p) throw new PveError(500, `pool '${path.poolid}' does not exist`);
        // As PVE: a guest member carries its node, name and status, as in /cluster/resources.
        const member = (m: number) => {
          const vm = s().vms.find((v) => v.vmid === m);
          return { id: `qemu/${m}`, vmid: m, type: 'qemu', ...(vm ? { node: vm.node, name: vm.config.name, status: vm.status, template: vm.template ? 1 : 0 } : {}) };
        };
        return { poolid: p.poolid, ...(p.comment ? { comment: p.comment } : {}), members: p.members.map(member) };
      },
    },
    {
      method: 'PUT',
      pattern: '/pools/{poolid}',
      params: { vms: ANY, delete: BOOL, comment: ANY, storage: ANY },
      handler: ({ path, params }) => {
        const p = s().pools.find((x) => x.poolid === path.poolid);
        if (!p) throw new PveError(500, `pool '${path.poolid}' does not exist`);
        if (params.comment !== undefined) p.comment = params.comment;
        const ids = (params.vms ?? '')
          .split(/[,;\s]+/)
          .filter(Boolean)
          .map(Number);
        if (params.delete === '1') p.members = p.members.filter((m) => !ids.includes(m));
        else p.members.push(...ids.filter((i) => !p.members.includes(i)));
        for (const v of s().vms)
          if (ids.includes(v.vmid)) {
            if (params.delete === '1') delete v.pool;
            else v.pool = p.poolid;
          }
        return null;
      },
    },
    { method: 'GET', pattern: '/access/acl', handler: () => s().acl.flatMap((a) => a.users.split(',').map((u) => ({ path: a.path, ugid: u, type: 'user', roleid: a.roles, propagate: 1 }))) },
    {
      method: 'PUT',
      pattern: '/access/acl',
      required: ['path', 'roles'],
      params: { path: ANY, roles: ANY, users: ANY, groups: ANY, tokens: ANY, propagate: BOOL, delete: BOOL },
      handler: ({ params }) => {
        if (params.delete === '1') s().acl = s().acl.filter((a) => !(a.path === params.path && a.users === params.users));
        else s().acl.push({ path: params.path ?? '', users: params.users ?? '', roles: params.roles ?? '' });
        return null;
      },
    },
    { method: 'GET', pattern: '/cluster/sdn/zones', handler: () => s().sdn.zones },
    {
      method: 'POST',
      pattern: '/cluster/sdn/zones',
      required: ['zone', 'type'],
      params: { zone: /^[a-z][a-z0-9]{0,7}$/, type: /^(vlan|simple|qinq|vxlan|evpn)$/, bridge: NAME, mtu: INT, nodes: ANY },
      handler: ({ params }) => {
        if (s().sdn.zones.some((z) => z.zone === params.zone)) throw new PveError(500, `sdn zone object ID '${params.zone}' already defined`);
        s().sdn.zones.push({ zone: params.zone ?? '', type: params.type ?? 'vlan', ...(params.bridge ? { bridge: params.bridge } : {}) });
        s().sdn.pending = true;
        return null;
      },
    },
    { method: 'GET', pattern: '/cluster/sdn/vnets', handler: () => s().sdn.vnets },
    {
      method: 'POST',
      pattern: '/cluster/sdn/vnets',
      required: ['vnet', 'zone'],
      params: { vnet: /^[a-z][a-z0-9]{0,7}$/, zone: NAME, tag: INT, alias: ANY },
      handler: ({ params }) => {
        if (!s().sdn.zones.some((z) => z.zone === params.zone)) throw paramError({ zone: `zone '${params.zone}' does not exist` });
        if (s().sdn.vnets.some((v) => v.vnet === params.vnet)) throw new PveError(500, `sdn vnet object ID '${params.vnet}' already defined`);
        s().sdn.vnets.push({ vnet: params.vnet ?? '', zone: params.zone ?? '', ...(params.tag ? { tag: Number(params.tag) } : {}), ...(params.alias ? { alias: params.alias } : {}) });
        s().sdn.pending = true;
        return null;
      },
    },
    {
      method: 'DELETE',
      pattern: '/cluster/sdn/vnets/{vnet}',
      handler: ({ path }) => {
        s().sdn.vnets = s().sdn.vnets.filter((v) => v.vnet !== path.vnet);
        s().sdn.pending = true;
        return null;
      },
    },
    {
      method: 'PUT',
      pattern: '/cluster/sdn',
      handler: ({ user }) =>
        tasks.start({
          node: s().nodes[0]?.name ?? 'pve1',
          type: 'reloadnetworkall',
          id: '',
          user,
          durationMs: 100,
          work: () => {
            s().sdn.pending = false;
          },
        }),
    },
  ];
}

function usedOn(s: SimState, node: string, storage: string): number {
  return s.vms
    .filter((v) => v.node === node)
    .reduce(
      (a, v) =>
        a +
        Object.entries(v.config)
          .filter(([k, e]) => isDataDisk(k, e) && e.startsWith(`${storage}:`))
          .reduce((b, [, e]) => b + diskSize(e), 0),
      0,
    );
}
