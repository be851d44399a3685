import type { Command } from 'commander';
import { runConvert } from '../../convert/index.ts';
import { DEFAULT_COLUMNS } from '../../convert/xlsx.ts';
import { EXIT } from '../exit-codes.ts';

export function convertCommand(program: Command): void {
  program
    .command('convert')
    .description("turn the old aggregator's JSON requests or a request spreadsheet (.xlsx) into manifests")
    .argument('<file>', 'a .json request (one object or a list) or an .xlsx sheet with one VM per row')
    .option('-o, --output <format>', 'yaml | json', 'yaml')
    .option('--column <field=header...>', 'spreadsheet: map a field to a column header, e.g. vm.memory=RAM', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addHelpText(
      'after',
      `\nExample:\n  virtkeeper convert examples/requests/request.json > manifests/billing.yaml\n  virtkeeper convert requests.xlsx --column vm.memory=RAM\n\nDefault spreadsheet columns: ${Object.entries(
        DEFAULT_COLUMNS,
      )
        .map(([f, h]) => `${h} (${f})`)
        .join(', ')}`,
    )
    .action(async (file: string, o: { output: string; column: string[] }) => {
      const columnMap = Object.fromEntries(o.column.map((c) => c.split('=') as [string, string]));
      const { text, problems } = await runConvert(file, { output: o.output === 'json' ? 'json' : 'yaml', ...(o.column.length ? { columnMap } : {}) });
      process.stdout.write(text);
      for (const p of problems) process.stderr.write(`${p}\n`);
      process.exitCode = problems.length > 0 ? EXIT.failed : EXIT.ok;
    });
}
