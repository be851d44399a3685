// The `virtkeeper` command line: thin over the library. Parses arguments, wires the parts,
// runs. Library code never exits the process; this file sets exit codes.
import { Command, CommanderError } from 'commander';
import { isVkError } from '../core/errors.ts';
import { DEFAULT_CREDENTIALS_DIR } from '../runtime/credentials.ts';
import { safeError } from '../runtime/reconciler.ts';
import { applyCommand, planCommand } from './commands/apply.ts';
import { consoleCommand } from './commands/console.ts';
import { convertCommand } from './commands/convert.ts';
import { crdsCommand } from './commands/crds.ts';
import { execCommand } from './commands/exec.ts';
import { getCommand } from './commands/get.ts';
import { quickstartCommand } from './commands/quickstart.ts';
import { runCommand } from './commands/run.ts';
import { simCommand } from './commands/sim.ts';
import { uiCommand } from './commands/ui.ts';
import { validateCommand } from './commands/validate.ts';
import type { GlobalOptions } from './context.ts';
import { EXIT } from './exit-codes.ts';

export async function buildProgram(): Promise<Command> {
  const program = new Command('virtkeeper')
    .description('Declarative VMs on oVirt, Proxmox VE and libvirt/KVM: from a git-ops folder or Kubernetes custom resources')
    .option('--log-level <level>', 'trace | debug | info | warn | error')
    .option('--state-dir <dir>', 'where directory mode keeps status (default: under $XDG_STATE_HOME/virtkeeper, keyed by the folder)')
    .option('--credentials-dir <dir>', `the only folder a Hypervisor's credentialsRef.file may name (default ${DEFAULT_CREDENTIALS_DIR})`)
    .option('--allow-credential-env <name>', 'let credentialsRef.env name this prefix as it is, without VIRTKEEPER_ (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', '\nExample:\n  virtkeeper quickstart\n  virtkeeper plan -f examples/\n  virtkeeper <command> --help')
    .exitOverride();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  validateCommand(program, globals);
  planCommand(program, globals);
  applyCommand(program, globals);
  runCommand(program, globals);
  getCommand(program, globals);
  crdsCommand(program);
  simCommand(program);
  quickstartCommand(program, globals);
  convertCommand(program);
  execCommand(program, globals);
  consoleCommand(program, globals);
  uiCommand(program, globals);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const err = safeError(e);
    process.stderr.write(`error: ${err.message} [${err.code}]\n`);
    if (isVkError(e) && e.kind === 'auth') process.stderr.write("hint: check the Hypervisor's credentialsRef (VIRTKEEPER_* environment variables, or a file in --credentials-dir)\n");
    process.exitCode = EXIT.failed;
  }
}

if (import.meta.main) await main(process.argv);
