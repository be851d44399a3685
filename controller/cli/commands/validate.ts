import type { Command } from 'commander';
import { formatProblem, loadFolder } from '../../sources/load-folder.ts';
import type { GlobalOptions } from '../context.ts';
import { stateFor } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { printStructured } from '../output.ts';
import type { AnyResource } from '../../api/types.ts';

export function validateCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('validate')
    .description('check every manifest in a folder: schema, references, refused changes (disk shrink against the last apply)')
    .requiredOption('-f, --filename <dir>', 'folder of YAML manifests')
    .option('-o, --output <format>', 'text | json | yaml', 'text')
    .addHelpText('after', '\nExample:\n  virtkeeper validate -f examples/\n\nExit status: 0 all valid, 1 one line per problem on stdout.')
    .action(async (o: { filename: string; output: string }) => {
      const records = await stateFor(o.filename, globals()).list();
      const lastApplied = new Map(records.flatMap((r) => (r.lastApplied ? [[r.key, r.lastApplied.spec as AnyResource['spec']] as const] : [])));
      const load = await loadFolder(o.filename, { lastApplied });
      if (o.output === 'json' || o.output === 'yaml') printStructured({ valid: load.resources.map((r) => r.key), problems: load.problems }, o.output);
      else {
        for (const p of load.problems) process.stdout.write(`${formatProblem(p)}\n`);
        process.stderr.write(`${load.resources.length} resource(s) valid, ${load.problems.length} problem(s) in ${load.brokenFiles.size} file(s)\n`);
      }
      process.exitCode = load.problems.length > 0 ? EXIT.failed : EXIT.ok;
    });
}
