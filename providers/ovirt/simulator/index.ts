// The oVirt engine simulator, importable by tests and tools; several can run at once.
import type { EngineState } from './model.ts';
import { OvirtSimulator, type OvirtFaults, type OvirtSimulatorOptions } from './server.ts';

export type { OvirtFaults, OvirtSimulatorOptions } from './server.ts';
export { OvirtSimulator } from './server.ts';

export interface RunningOvirtSimulator {
  url: string;
  credentials: { username: string; password: string };
  sim: OvirtSimulator;
  stats(): Record<string, number>;
  resetStats(): void;
  dump(): EngineState;
  load(state: EngineState): void;
  setFaults(f: OvirtFaults): void;
  close(): Promise<void>;
}

export async function startOvirtSimulator(options: OvirtSimulatorOptions = {}): Promise<RunningOvirtSimulator> {
  const sim = new OvirtSimulator(options);
  const url = await sim.listen();
  return {
    url,
    credentials: { username: sim.username, password: sim.password },
    sim,
    stats: () => sim.stats(),
    resetStats: () => sim.resetStats(),
    dump: () => structuredClone(sim.engine.state),
    load: (state) => {
      sim.engine.state = structuredClone(state);
    },
    setFaults: (f) => {
      sim.faults = f;
    },
    close: () => sim.close(),
  };
}
