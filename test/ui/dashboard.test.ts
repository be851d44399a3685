// The Grafana dashboard in manifests/ asks only for metrics the controller exports.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Metrics } from '../../controller/runtime/metrics.ts';
import { registerUsageMetrics } from '../../controller/ui/usage-metrics.ts';

it('queries only metric names registered on /metrics', async () => {
  const dash = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'manifests', 'grafana-dashboard.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const m = new Metrics();
  registerUsageMetrics(m, () => ({ hypervisors: [], vms: [] }));
  const exported = new Set([...m.render().matchAll(/^# TYPE (\S+)/gm)].map((x) => x[1]));
  const exprs = [...dash.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...dash.templating.list.map((v) => JSON.stringify(v.query ?? ''))];
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/virtkeeper_[a-z_]+/g)].map((x) => x[0])));
  expect(used.size).toBeGreaterThan(8);
  for (const name of used) expect(exported, name).toContain(name);
});
