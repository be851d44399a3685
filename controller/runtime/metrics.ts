// Prometheus metrics in the text exposition format (version 0.0.4), without a client library:
// counters and histograms keyed by label sets, gauges read when scraped.
import type { ReconcileEvent } from './events.ts';

type Labels = Record<string, string>;

const labelText = (l: Labels) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
}

const BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly counters = new Map<string, Map<string, { labels: Labels; value: number }>>();
  private readonly histograms = new Map<string, Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>>();
  private readonly gauges = new Map<string, () => { labels: Labels; value: number }[]>();

  constructor() {
    this.families.set('virtkeeper_reconcile_total', { help: 'Reconciles by kind and result.', type: 'counter' });
    this.families.set('virtkeeper_reconcile_duration_seconds', { help: 'Time a reconcile takes, by kind.', type: 'histogram' });
    this.families.set('virtkeeper_actions_total', { help: 'Hypervisor actions by type and result.', type: 'counter' });
    this.families.set('virtkeeper_refusals_total', { help: 'Changes refused (not owned, protected, shrink...) by code.', type: 'counter' });
    this.families.set('virtkeeper_errors_total', { help: 'Reconcile errors by code.', type: 'counter' });
  }

  inc(name: string, labels: Labels, by = 1): void {
    const series = this.counters.get(name) ?? new Map<string, { labels: Labels; value: number }>();
    this.counters.set(name, series);
    const key = labelText(labels);
    const s = series.get(key) ?? { labels, value: 0 };
    s.value += by;
    series.set(key, s);
  }

  observe(name: string, labels: Labels, seconds: number): void {
    const series = this.histograms.get(name) ?? new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
    this.histograms.set(name, series);
    const key = labelText(labels);
    const s = series.get(key) ?? { labels, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += seconds;
    s.count++;
    series.set(key, s);
  }

  /** A gauge whose samples are read at scrape time. */
  gauge(name: string, help: string, read: () => { labels: Labels; value: number }[]): void {
    this.families.set(name, { help, type: 'gauge' });
    this.gauges.set(name, read);
  }

  /** Counts what the reconciler reports: actions, refusals, errors. */
  sink = (e: ReconcileEvent): void => {
    if (e.type === 'action' && e.phase !== 'start') this.inc('virtkeeper_actions_total', { action: e.action, result: e.phase === 'done' ? 'success' : 'failure' });
    else if (e.type === 'refused') this.inc('virtkeeper_refusals_total', { code: e.code });
    else if (e.type === 'error') this.inc('virtkeeper_errors_total', { code: e.code });
  };

  /** Times one reconcile and counts its result. */
  async time<T>(kind: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      const r = await fn();
      this.inc('virtkeeper_reconcile_total', { kind, result: 'success' });
      return r;
    } catch (e) {
      this.inc('virtkeeper_reconcile_total', { kind, result: 'error' });
      throw e;
    } finally {
      this.observe('virtkeeper_reconcile_duration_seconds', { kind }, (performance.now() - t0) / 1000);
    }
  }

  render(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      if (f.type === 'counter') for (const s of this.counters.get(name)?.values() ?? []) out.push(`${name}${labelText(s.labels)} ${s.value}`);
      if (f.type === 'gauge') for (const s of this.gauges.get(name)?.() ?? []) out.push(`${name}${labelText(s.labels)} ${s.value}`);
      if (f.type === 'histogram') {
        for (const s of this.histograms.get(name)?.values() ?? []) {
          for (const [i, b] of BUCKETS.entries()) out.push(`${name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i] ?? 0}`);
          out.push(`${name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`, `${name}_sum${labelText(s.labels)} ${s.sum}`, `${name}_count${labelText(s.labels)} ${s.count}`);
        }
      }
    }
    return `${out.join('\n')}\n`;
  }
}
