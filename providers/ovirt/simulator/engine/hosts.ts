// hosts/{id}/deactivate and activate: up → preparing_for_maintenance → maintenance, and back
// through unassigned to up. The engine migrates what still runs there itself; this simulator
// treats every running VM as one it cannot move and refuses, with the engine's text, so that a
// client must empty the host first (as virtkeeper's drain does).
import { conflict, type Engine, notFound } from '../engine.ts';
import type { SimHost } from '../model.ts';

export function hostAction(e: Engine, hostId: string, action: string): boolean {
  if (action !== 'deactivate' && action !== 'activate') return false;
  const h = e.state.hosts.find((x) => x.id === hostId);
  if (!h) throw notFound();
  if (action === 'deactivate') deactivate(e, h);
  else activate(e, h);
  return true;
}

function deactivate(e: Engine, h: SimHost): void {
  if (h.status === 'maintenance') throw conflict('[Cannot switch Host to Maintenance mode. Host is already in Maintenance mode.]');
  if (h.status === 'preparing_for_maintenance') return;
  const running = e.state.vms.filter((v) => (v.host === h.id || v.migrating_to === h.id) && v.status !== 'down');
  if (running.length > 0)
    throw conflict(
      `[Cannot switch the following Hosts to Maintenance mode: ${h.name}.\nOne or more running VMs are indicated as non-migratable. The non-migratable VMs are: ${running.map((v) => v.name).join(', ')}.]`,
    );
  h.status = 'preparing_for_maintenance';
  e.event(600, `Host ${h.name} was switched to Maintenance Mode by admin@internal-authz.`);
  e.later(e.t.bootStepMs * 2, () => {
    if (h.status !== 'preparing_for_maintenance') return;
    h.status = 'maintenance';
    e.event(16, `Host ${h.name} was switched to Maintenance Mode.`);
  });
}

function activate(e: Engine, h: SimHost): void {
  if (h.status === 'up') throw conflict('[Cannot activate Host. Host in Up status.]');
  if (h.status === 'unassigned') return;
  h.status = 'unassigned';
  e.event(16, `Activation of host ${h.name} initiated by admin@internal-authz.`);
  e.later(e.t.bootStepMs * 2, () => {
    if (h.status !== 'unassigned') return;
    h.status = 'up';
    e.event(13, `Status of host ${h.name} was set to Up.`);
  });
}
