// The Proxmox VE API simulator, importable by tests and tools.
import type { SimState } from './model.ts';
import { ProxmoxSimulator, type Faults, type ProxmoxSimulatorOptions } from './server.ts';

export type { Faults, ProxmoxSimulatorOptions } from './server.ts';
export type { SimState } from './model.ts';
export { ProxmoxSimulator } from './server.ts';

export interface RunningProxmoxSimulator {
  url: string;
  /** The server certificate (PEM) when started with `tls: true`. */
  caBundle?: string;
  credentials: { username: string; password: string; tokenId: string; tokenSecret: string };
  sim: ProxmoxSimulator;
  stats(): Record<string, number>;
  resetStats(): void;
  dump(): SimState;
  load(state: SimState): void;
  setFaults(f: Faults): void;
  close(): Promise<void>;
}

export async function startProxmoxSimulator(options: ProxmoxSimulatorOptions = {}): Promise<RunningProxmoxSimulator> {
  const sim = new ProxmoxSimulator(options);
  const url = await sim.listen();
  const user = sim.auth.users[0] ?? { userid: 'root@pam', password: '' };
  const token = sim.auth.tokens[0] ?? { tokenid: 'root@pam!virtkeeper', secret: '' };
  return {
    url,
    ...(sim.certificate ? { caBundle: sim.certificate } : {}),
    credentials: { username: user.userid, password: user.password, tokenId: token.tokenid, tokenSecret: token.secret },
    sim,
    stats: () => sim.stats(),
    resetStats: () => sim.resetStats(),
    dump: () => structuredClone(sim.state),
    load: (state) => {
      sim.state = structuredClone(state);
    },
    setFaults: (f) => {
      sim.faults = f;
    },
    close: () => sim.close(),
  };
}
