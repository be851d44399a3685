// Live progress of `apply --wait` and `run`: readable lines on a TTY, JSON lines otherwise.
import type { ReconcileEvent } from '../runtime/events.ts';
import type { Style } from './style.ts';

export function progressPrinter(stream: NodeJS.WriteStream, st: Style, json: boolean): (e: ReconcileEvent) => void {
  const lastStatus = new Map<string, string>();
  const lastProgress = new Map<string, string>();
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
        // Only what moves: a new percentage step or a new message, never the same line again.
        const k = `${e.key}:${e.action}`;
        const text = `${e.percent !== undefined ? `${e.percent}% ` : ''}${e.message ?? ''}`;
        if (lastProgress.get(k) === text || (e.percent === undefined && / running$/.test(e.message ?? ''))) return;
        lastProgress.set(k, text);
        stream.write(`${who}    ${st.paint('gray', `${e.action}: ${text}`)}\n`);
        break;
      }
      case 'status': {
        const text = `${e.phase ?? ''} ready=${e.ready ?? ''}`;
        if (lastStatus.get(e.key) === text) return;
        lastStatus.set(e.key, text);
        if (e.phase)
          stream.write(`${who}  phase ${st.paint(e.phase === 'Running' ? 'green' : e.phase === 'Failed' ? 'red' : 'yellow', e.phase)}${e.ready === 'True' ? st.paint('green', ' (Ready)') : ''}\n`);
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
