// The oVirt VM client: observation and actions.
import type { VMClient } from '../../../controller/core/provider.ts';
import type { OvirtSession } from '../session.ts';
import { migrationsOf } from '../migration-progress.ts';
import { executeVm } from './actions.ts';
import { observeVms } from './observe.ts';

export function ovirtVms(s: OvirtSession): VMClient {
  return {
    observe: () => observeVms(s),
    execute: (action, ctx) => executeVm(s, action, ctx),
    migrations: (targets) => migrationsOf(s, targets),
  };
}
