// The Proxmox VMClient: observation (observe.ts), create (create.ts), the other actions (actions.ts).
import type { VMAction } from '../../../controller/core/actions.ts';
import type { ActionContext, ExecuteResult, MigrationProgress, ObserveOptions, Target, VMClient } from '../../../controller/core/provider.ts';
import type { Observation } from '../../../controller/core/model.ts';
import type { ProxmoxContext } from '../context.ts';
import { runAction } from './actions.ts';
import { CloneQueues, createVM } from './create.ts';
import { VMObserver } from './observe.ts';

export class ProxmoxVMs implements VMClient {
  private readonly c: ProxmoxContext;
  private readonly observer: VMObserver;
  private readonly clones = new CloneQueues();

  constructor(c: ProxmoxContext) {
    this.c = c;
    this.observer = new VMObserver(c);
  }

  observe(options: ObserveOptions = {}): Promise<Observation> {
    return this.observer.observe(options);
  }

  async execute(action: VMAction, ctx: ActionContext = {}): Promise<ExecuteResult> {
    // The observation's row of the VM serves this action only if no action touched it since.
    const untouched = 'target' in action ? this.c.touch(action.target.providerID) : false;
    if (action.type === 'create') {
      const { vm, node, resume } = action;
      let attempts = 0;
      const made = await this.c.retry(() => createVM(this.c, this.clones, { vm, ...(node ? { node } : {}), ...(resume ? { resume } : {}) }, ctx, attempts++ > 0), ctx);
      return { made };
    }
    await runAction(this.c, action, ctx, { reuse: untouched });
    return {};
  }

  migrations(targets: readonly Target[]): Promise<ReadonlyMap<string, MigrationProgress>> {
    return this.c.migrations.of(targets);
  }
}
