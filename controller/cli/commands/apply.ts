import type { Command } from 'commander';
import { parseDuration } from '../../api/quantity.ts';
import { converge, type ConvergeReport } from '../../runtime/converge.ts';
import { openFolder } from '../../sources/folder.ts';
import { ReadOnlyStatusStore } from '../../status/read-only.ts';
import { hypervisorPool, makeLogger, sleep, stateFor, type GlobalOptions } from '../context.ts';
import { directoryInstance } from '../instance.ts';
import { EXIT } from '../exit-codes.ts';
import { printStructured } from '../output.ts';
import { addRemovalOptions, removalPolicy, type RemovalFlags } from '../removal-options.ts';
import { progressPrinter } from '../progress.ts';
import { planJson, renderPlan } from '../render-plan.ts';
import { styleFor } from '../style.ts';

interface PlanOpts extends RemovalFlags {
  filename: string;
  output: string;
  detailedExitcode?: boolean;
  instance?: string;
}
interface ApplyOpts extends RemovalFlags {
  filename: string;
  output: string;
  wait?: boolean;
  timeout: string;
  instance?: string;
}

export const INSTANCE_HELP = 'controller instance named in VM markers (default: a hash of the state directory, itself derived from the folder path); VMs marked by another instance are not touched';

function problemsOut(report: ConvergeReport): void {
  for (const p of report.problems) process.stderr.write(`invalid: ${p}\n`);
  if (report.guard) process.stderr.write(`deletion guard: ${report.guard}\n`);
}

export function planCommand(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command('plan')
    .description('show what apply would change, without changing anything')
    .requiredOption('-f, --filename <dir>', 'folder of YAML manifests')
    .option('-o, --output <format>', 'text | json | yaml', 'text')
    .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when none, 1 on errors')
    .option('--instance <id>', INSTANCE_HELP);
  addRemovalOptions(cmd, { grace: '0s' })
    .addHelpText('after', '\nExample:\n  virtkeeper plan -f ./vms --detailed-exitcode\n  virtkeeper plan -f ./vms -o json | jq .actions')
    .action(async (o: PlanOpts) => {
      const g = globals();
      const logger = makeLogger(g.logLevel, 'warn');
      const state = stateFor(o.filename, g);
      // A plan is one look at each hypervisor: a pass longer than the observation's 2 s must not list again.
      const hypervisors = hypervisorPool(logger, g, undefined, { dir: state.dir, readOnly: true }, { observeMaxAgeMs: Number.POSITIVE_INFINITY });
      try {
        const instance = directoryInstance(o.instance, state.dir);
        const statuses = new ReadOnlyStatusStore(state);
        const folder = await openFolder(o.filename, statuses);
        const report = await converge({ folder, statuses, hypervisors, logger, now: Date.now, sleep, dryRun: true, removal: removalPolicy(o), instance });
        problemsOut(report);
        if (o.output === 'json' || o.output === 'yaml') printStructured(planJson(report.outcomes), o.output);
        else process.stdout.write(`${renderPlan(report.outcomes, styleFor(process.stdout))}\n`);
        const changes = report.outcomes.some((x) => (x.plan?.steps.length ?? 0) > 0);
        const failed = report.problems.length > 0 || report.outcomes.some((x) => x.error);
        process.exitCode = failed ? EXIT.failed : o.detailedExitcode && changes ? EXIT.changes : EXIT.ok;
      } finally {
        await hypervisors.closeAll();
      }
    });
}

export function applyCommand(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command('apply')
    .description('converge the hypervisors to the manifests once, then exit')
    .requiredOption('-f, --filename <dir>', 'folder of YAML manifests')
    .option('--wait', 'wait until every resource is Ready (or failed)')
    .option('--timeout <duration>', 'how long --wait waits', '10m')
    .option('-o, --output <format>', 'text | json (JSON lines of progress, then a JSON summary)', 'text')
    .option('--instance <id>', INSTANCE_HELP);
  addRemovalOptions(cmd, { grace: '0s' })
    .addHelpText('after', '\nExample:\n  virtkeeper apply -f ./vms --wait --timeout 15m\n\nExit status: 0 all Ready (or applied), 1 a resource failed or a manifest is invalid, 124 timed out.')
    .action(async (o: ApplyOpts) => {
      const g = globals();
      const logger = makeLogger(g.logLevel, 'warn');
      const statuses = stateFor(o.filename, g);
      // One look at each hypervisor per pass (converge looks again each wait round), however long the pass.
      const hypervisors = hypervisorPool(logger, g, undefined, { dir: statuses.dir }, { observeMaxAgeMs: Number.POSITIVE_INFINITY });
      const json = o.output === 'json' || !process.stdout.isTTY;
      const st = styleFor(process.stdout);
      try {
        const report = await converge({
          folder: await openFolder(o.filename, statuses),
          statuses,
          hypervisors,
          logger,
          now: Date.now,
          sleep,
          instance: directoryInstance(o.instance, statuses.dir),
          emit: progressPrinter(process.stdout, st, json),
          ...(o.wait ? { wait: true } : {}),
          timeoutMs: parseDuration(o.timeout),
          removal: removalPolicy(o),
        });
        problemsOut(report);
        const failed = report.outcomes.filter((x) => x.error);
        const summary = {
          resources: report.outcomes.map((x) => ({ resource: x.key, ready: x.ready, ...(x.error ? { error: x.error } : {}) })),
          invalid: report.problems,
          ...(report.guard ? { guard: report.guard } : {}),
          timedOut: report.timedOut,
        };
        if (json) process.stdout.write(`${JSON.stringify({ summary })}\n`);
        else {
          process.stdout.write('\n');
          for (const x of report.outcomes)
            process.stdout.write(
              `${x.error ? st.paint('red', '✗') : x.ready ? st.paint('green', '✓') : st.paint('yellow', '…')} ${x.key}${x.error ? `: ${x.error.message} [${x.error.code}]` : x.ready ? '' : ' (not Ready yet)'}\n`,
            );
          const ready = report.outcomes.filter((x) => x.ready).length;
          process.stdout.write(`${report.outcomes.length} resource(s): ${ready} Ready, ${failed.length} failed, ${report.outcomes.length - ready - failed.length} not Ready yet.\n`);
        }
        process.exitCode = report.timedOut ? EXIT.timeout : failed.length > 0 || report.problems.length > 0 || report.guard ? EXIT.failed : EXIT.ok;
      } finally {
        await hypervisors.closeAll();
      }
    });
}
