// The infrastructure: data centers (with their clusters, networks and storage domains),
// clusters (with the networks attached to them), hosts and their statistics, storage domains.
import { bool, obj } from '../representation.ts';
import { hostRecord, namedRecord } from '../search-fields.ts';
import { link } from '../views/common.ts';
import { clusterView, datacenterView, hostStatistics, hostView, storageDomainView } from '../views/infra.ts';
import { networkView } from '../views/network.ts';
import { coll, one, type RouteContext, type RouteResult, type RouteTable } from './route.ts';

function datacenters(c: RouteContext): RouteResult {
  const s = c.state;
  return c.oid
    ? [
        200,
        'data_center',
        datacenterView(
          s,
          one(s.datacenters, (d) => d.id === c.oid),
        ),
      ]
    : coll(
        'data_center',
        c.page('datacenters', s.datacenters, (d) => namedRecord(s, 'datacenters', d)).map((d) => datacenterView(s, d)),
      );
}

function clusters(c: RouteContext): RouteResult {
  const s = c.state;
  return c.oid
    ? [
        200,
        'cluster',
        clusterView(
          s,
          one(s.clusters, (x) => x.id === c.oid),
          c.follow,
        ),
      ]
    : coll(
        'cluster',
        c.page('clusters', s.clusters, (x) => namedRecord(s, 'clusters', x)).map((x) => clusterView(s, x, c.follow)),
      );
}

function clusterNetworks(c: RouteContext): RouteResult {
  const { state: s, oid, body } = c;
  if (c.method === 'POST') {
    const cl = one(s.clusters, (x) => x.id === oid);
    const net = one(s.networks, (n) => n.id === obj(body).id || n.name === obj(body).name);
    if (!net.clusters.some((x) => x.id === cl.id)) net.clusters.push({ id: cl.id, required: bool(body.required) ?? false });
    return [201, 'network', networkView(net, s)];
  }
  // A network as a cluster has it: with its role there (required, display, status).
  return coll(
    'network',
    s.networks
      .filter((n) => n.clusters.some((x) => x.id === oid))
      .map((n) => ({ ...networkView(n, s), cluster: link('clusters', oid), required: n.clusters.find((x) => x.id === oid)?.required ?? false, display: false, status: 'operational' })),
  );
}

function hosts(c: RouteContext): RouteResult {
  const s = c.state;
  return c.oid
    ? [
        200,
        'host',
        hostView(
          s,
          one(s.hosts, (h) => h.id === c.oid),
          c.follow,
        ),
      ]
    : coll(
        'host',
        c.page('hosts', s.hosts, (h) => hostRecord(s, h)).map((h) => hostView(s, h, c.follow)),
      );
}

function storageDomains(c: RouteContext): RouteResult {
  const s = c.state;
  return c.oid
    ? [
        200,
        'storage_domain',
        storageDomainView(
          s,
          one(s.storagedomains, (d) => d.id === c.oid),
        ),
      ]
    : coll(
        'storage_domain',
        c.page('storagedomains', s.storagedomains, (d) => namedRecord(s, 'storagedomains', d)).map((d) => storageDomainView(s, d)),
      );
}

export const infraRoutes: RouteTable = {
  datacenters,
  'datacenters/clusters': (c) =>
    coll(
      'cluster',
      c.state.clusters.filter((x) => x.data_center === c.oid).map((x) => clusterView(c.state, x, c.follow)),
    ),
  'datacenters/networks': (c) =>
    coll(
      'network',
      c.state.networks.filter((n) => n.data_center === c.oid).map((n) => networkView(n, c.state, c.follow)),
    ),
  'datacenters/storagedomains': (c) =>
    coll(
      'storage_domain',
      c.state.storagedomains.map((d) => storageDomainView(c.state, d)),
    ),
  clusters,
  'clusters/networks': clusterNetworks,
  hosts,
  'hosts/statistics': (c) =>
    coll(
      'statistic',
      hostStatistics(
        c.state,
        one(c.state.hosts, (h) => h.id === c.oid),
      ),
    ),
  storagedomains: storageDomains,
};
