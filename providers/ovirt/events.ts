// Change notifications: the engine's event log polled (`events?from=<last index>`) between
// resyncs, calling back with the VMs the new events name.
import { arr, num, obj } from './client.ts';
import type { OvirtSession } from './session.ts';
import { sleep } from './wait.ts';

export function watchEvents(s: OvirtSession, onChange: (ids: string[]) => void, everyMs = 2000): () => void {
  const stop = new AbortController();
  const tick = async () => {
    while (!stop.signal.aborted) {
      try {
        const evs = arr((await s.api.get('/events', s.eventIndex ? { from: String(s.eventIndex) } : { max: '1' })).event);
        const first = s.eventIndex === 0;
        s.eventIndex = Math.max(s.eventIndex, ...evs.map((e) => num(e.index)));
        const ids = [...new Set(evs.map((e) => String(obj(e.vm).id ?? '')).filter(Boolean))];
        if (!first && ids.length > 0) onChange(ids);
      } catch (e) {
        s.logger.debug({ err: (e as Error).message }, 'events poll failed');
      }
      // Stopping ends the wait at once: a loop left sleeping would keep the process alive.
      await sleep(everyMs, stop.signal).catch(() => undefined);
    }
  };
  void tick();
  return () => stop.abort();
}
