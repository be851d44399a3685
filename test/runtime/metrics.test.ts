// The metrics text: counters by label set, a histogram with cumulative buckets, gauges read
// at scrape time, label values escaped.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../controller/runtime/metrics.ts';

describe('metrics', () => {
  it('counts reconciles and actions and renders the exposition format', async () => {
    const m = new Metrics();
    await m.time('VirtualMachine', async () => 1);
    await m.time('VirtualMachine', async () => Promise.reject(new Error('x'))).catch(() => undefined);
    m.sink({ type: 'action', key: 'k', phase: 'done', action: 'create', summary: '' });
    m.sink({ type: 'action', key: 'k', phase: 'start', action: 'create', summary: '' });
    m.sink({ type: 'action', key: 'k', phase: 'failed', action: 'start', summary: '' });
    m.sink({ type: 'refused', key: 'k', code: 'VK_REFUSED_PROTECTED', message: '' });
    m.gauge('virtkeeper_workqueue_depth', 'Keys waiting.', () => [{ labels: {}, value: 3 }]);
    m.gauge('virtkeeper_odd', 'Escaping.', () => [{ labels: { v: 'a"b\\c\nd' }, value: 1 }]);
    const text = m.render();
    const lines = text.split('\n');
    expect(lines).toContain('virtkeeper_reconcile_total{kind="VirtualMachine",result="success"} 1');
    expect(lines).toContain('virtkeeper_reconcile_total{kind="VirtualMachine",result="error"} 1');
    expect(lines).toContain('virtkeeper_actions_total{action="create",result="success"} 1');
    expect(lines).toContain('virtkeeper_actions_total{action="start",result="failure"} 1');
    expect(lines).toContain('virtkeeper_refusals_total{code="VK_REFUSED_PROTECTED"} 1');
    expect(lines).toContain('virtkeeper_workqueue_depth 3');
    expect(lines).toContain('virtkeeper_odd{v="a\\"b\\\\c\\nd"} 1');
    expect(lines).toContain('# TYPE virtkeeper_reconcile_duration_seconds histogram');
    expect(lines).toContain('virtkeeper_reconcile_duration_seconds_count{kind="VirtualMachine"} 2');
    expect(lines).toContain('virtkeeper_reconcile_duration_seconds_bucket{kind="VirtualMachine",le="+Inf"} 2');
    // Buckets are cumulative: never fewer in a wider one.
    const buckets = lines.filter((l) => l.startsWith('virtkeeper_reconcile_duration_seconds_bucket')).map((l) => Number(l.split(' ')[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(text.endsWith('\n')).toBe(true);
  });
});
