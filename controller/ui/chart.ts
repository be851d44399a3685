// The usage chart of a VM's last hour, as inline SVG drawn on the server: CPU, memory, and disk
// and network throughput (rates from the differences of the hypervisor's counters).
import { formatBytes, html, type Html } from './html.ts';
import { type Throughput, throughputOf, type UsageSample } from './usage-history.ts';

interface Series {
  title: string;
  points: { at: number; value: number }[];
  format: (v: number) => string;
  max?: number;
}

const W = 600;
const H = 120;
const PAD = 4;

/** Bytes per second between consecutive samples (throughputOf: no rate over a restart). */
function rates(samples: readonly UsageSample[], rate: keyof Throughput): { at: number; value: number }[] {
  const out: { at: number; value: number }[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    const v = a && b ? throughputOf(a, b)?.[rate] : undefined;
    if (b && v !== undefined) out.push({ at: b.at, value: v });
  }
  return out;
}

function chart(s: Series, from: number, to: number): Html {
  const max = s.max ?? Math.max(1, ...s.points.map((p) => p.value));
  const x = (at: number) => PAD + ((at - from) / Math.max(1, to - from)) * (W - 2 * PAD);
  const y = (v: number) => H - PAD - (Math.min(v, max) / max) * (H - 2 * PAD);
  const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const last = s.points.at(-1);
  return html`<figure class="chart"><figcaption>${s.title}: <b>${last ? s.format(last.value) : 'no samples yet'}</b> <small>(max ${s.format(max)})</small></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${s.title} over the last hour"><rect class="bg" x="0" y="0" width="${W}" height="${H}"/>${
    s.points.length > 0 ? html`<path class="line" d="${path}"/>` : ''
  }${last ? html`<circle class="dot" cx="${x(last.at).toFixed(1)}" cy="${y(last.value).toFixed(1)}" r="3"/>` : ''}</svg></figure>`;
}

export function usageCharts(samples: readonly UsageSample[], o: { now: number; windowMs: number; memoryBytes?: number }): Html {
  // The axis starts at the first sample when the history is younger than the window (a fresh controller), so a line shows.
  const from = Math.max(o.now - o.windowMs, Math.min(samples[0]?.at ?? o.now - o.windowMs, o.now - 1000));
  const pick = (f: 'cpuRatio' | 'memoryUsedBytes') => samples.flatMap((s) => (s[f] === undefined ? [] : [{ at: s.at, value: s[f] as number }]));
  const perSec = (v: number) => `${formatBytes(v)}/s`;
  const series: Series[] = [
    { title: 'CPU', points: pick('cpuRatio').map((p) => ({ at: p.at, value: p.value * 100 })), format: (v) => `${v.toFixed(1)} %`, max: 100 },
    { title: 'Memory used', points: pick('memoryUsedBytes'), format: (v) => formatBytes(v), ...(o.memoryBytes ? { max: o.memoryBytes } : {}) },
    { title: 'Disk read', points: rates(samples, 'diskReadBps'), format: perSec },
    { title: 'Disk write', points: rates(samples, 'diskWriteBps'), format: perSec },
    { title: 'Network receive', points: rates(samples, 'networkReceiveBps'), format: perSec },
    { title: 'Network transmit', points: rates(samples, 'networkTransmitBps'), format: perSec },
  ];
  return html`<p class="muted">since ${new Date(from).toISOString().slice(11, 19)} UTC, ${samples.length} sample(s)</p><div class="charts" data-samples="${samples.length}">${series.map((s) => chart(s, from, o.now))}</div>`;
}
