// One VM: its spec beside its live state, conditions, planned actions, recent events and the
// usage chart of the last hour.
import { stringify } from 'yaml';
import type { Condition } from '../api/types.ts';
import type { StatusRecord } from '../status/writer.ts';
import { usageCharts } from './chart.ts';
import type { TimedEvent } from './feed.ts';
import { formatBytes, html, type Html, percent } from './html.ts';
import type { InventoryVM } from './inventory.ts';
import { eventRows } from './pages-inventory.ts';
import type { UsageSample } from './usage-history.ts';

export interface VMPageInput {
  vm: InventoryVM;
  record?: StatusRecord;
  events: readonly TimedEvent[];
  samples: readonly UsageSample[];
  now: number;
  windowMs: number;
}

const dl = (rows: [string, string | Html | undefined][]) => html`<dl>${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v ?? '–'}</dd>`)}</dl>`;

export function vmPage(i: VMPageInput): Html {
  const { vm, record } = i;
  const status = (record?.status ?? {}) as { phase?: string; conditions?: Condition[]; plannedActions?: { type: string; description: string; disruptive?: boolean }[] };
  const spec = (record?.lastApplied as { spec?: unknown } | undefined)?.spec;
  const live = dl([
    ['Hypervisor', `${vm.hypervisor} (${vm.type})`],
    ['Datacenter / cluster', [vm.datacenter, vm.cluster].filter(Boolean).join(' / ') || undefined],
    ['Node', vm.node],
    ['Provider ID', vm.providerID],
    ['State', vm.state],
    ['vCPUs', String(vm.vcpus)],
    ['Memory', formatBytes(vm.memoryBytes)],
    ['Disks', vm.disks.map((d) => `${d.name} ${formatBytes(d.sizeBytes)}${d.storage ? ` on ${d.storage}` : ''}`).join(', ') || undefined],
    ['IPs', vm.ips.join(', ') || undefined],
    [
      'Owner',
      vm.owner ? `${vm.owner.kind} ${vm.owner.namespace ?? 'default'}/${vm.owner.name}${vm.owner.instance ? ` (controller instance ${vm.owner.instance})` : ''}` : 'unmanaged (no virtkeeper marker)',
    ],
    ['Plan', vm.plan],
    ['CPU', percent(vm.usage?.cpuRatio)],
    ['Memory used', formatBytes(vm.usage?.memoryUsedBytes)],
  ]);
  const conditions = status.conditions?.length
    ? html`<table class="conditions"><thead><tr><th>Type</th><th>Status</th><th>Reason</th><th>Message</th><th>Since</th></tr></thead><tbody>${status.conditions.map(
        (c) => html`<tr><td>${c.type}</td><td>${c.status}</td><td>${c.reason ?? ''}</td><td>${c.message ?? ''}</td><td>${c.lastTransitionTime ?? ''}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">${vm.managed ? 'not reconciled yet' : 'none: virtkeeper does not manage this VM'}</p>`;
  const planned = status.plannedActions?.length
    ? html`<ul class="planned">${status.plannedActions.map((a) => html`<li><b>${a.type}</b> ${a.description}${a.disruptive ? html` <span class="warn">disruptive</span>` : ''}</li>`)}</ul>`
    : html`<p class="muted">nothing planned</p>`;
  return html`<h1>${vm.name} <small>on ${vm.hypervisor}</small></h1>
<div class="columns"><section><h2>Spec</h2>${spec ? html`<pre class="spec">${stringify(spec, { lineWidth: 0 })}</pre>` : html`<p class="muted">${vm.managed ? 'no spec recorded' : 'no spec: unmanaged'}</p>`}</section>
<section><h2>Live state</h2>${live}</section></div>
<h2>Usage, last hour</h2>${usageCharts(i.samples, { now: i.now, windowMs: i.windowMs, memoryBytes: vm.memoryBytes })}
<h2>Conditions</h2>${conditions}<h2>Planned actions</h2>${planned}<h2>Recent events</h2>${eventRows(i.events)}`;
}
