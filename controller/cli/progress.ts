// Live progress of `apply --wait` and `run`: readable lines on a TTY, JSON lines otherwise.
import type { ReconcileEvent } from '../runtime/events.ts';
import type { Style } from './style.ts';

export function progressPrinter(stream: NodeJS.WriteStream, st: Style, json: boolean): (e: ReconcileEvent) => void {
  const lastStatus = new Map<string, string>();
  const lastPercent = new Map<string, number>();
  return (e) => {
    if (json) {
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
      return;
    }
    const who = st.paint('bold', e.key.replace(/^VirtualMachine\//, 'vm/').replace(/^Hypervisor\//, 'hv/'));
    switch (e.type) {
      case 'action':
        if (e.phase === 'start') stream.write(`${who}  ${st.paint('cyan', '→')} ${e.summary}\n`);
        else if (e.phase === 'done') stream.write(`${who}  ${st.paint('green', '✓')} ${e.summary}\n`);
        else stream.write(`${who}  ${st.paint('red', '✗')} ${e.summary}: ${e.message ?? ''}\n`);
        break;
      case 'progress': {
        const p = e.percent ?? -1;
        const k = `${e.key}:${e.action}`;
        if (p >= 0 && Math.abs(p - (lastPercent.get(k) ?? -100)) < 10 && p < 100) return;
        lastPercent.set(k, p);
        stream.write(`${who}    ${e.action} ${p >= 0 ? `${p}%` : ''} ${e.message ?? ''}\n`);
        break;
      }
      case 'status': {
        const text = `${e.phase ?? ''} ready=${e.ready ?? ''}`;
        if (lastStatus.get(e.key) === text) return;
        lastStatus.set(e.key, text);
        if (e.phase) stream.write(`${who}  phase ${st.paint(e.phase === 'Running' ? 'green' : e.phase === 'Failed' ? 'red' : 'yellow', e.phase)}${e.ready === 'True' ? st.paint('green', ' (Ready)') : ''}\n`);
        break;
      }
      case 'refused':
        stream.write(`${who}  ${st.paint('red', 'refused')} ${e.message} [${e.code}]\n`);
        break;
      case 'error':
        stream.write(`${who}  ${st.paint(e.retrying ? 'yellow' : 'red', e.retrying ? 'retrying' : 'failed')} ${e.message} [${e.code}]\n`);
        break;
    }
  };
}
