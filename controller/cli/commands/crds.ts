import type { Command } from 'commander';
import { crdsText } from '../../api/crd-yaml.ts';
import { allCrds } from '../../api/crd.ts';

export function crdsCommand(program: Command): void {
  program
    .command('crds')
    .description('print the CustomResourceDefinitions (apiextensions.k8s.io/v1)')
    .option('-o, --output <format>', 'yaml | json', 'yaml')
    .addHelpText('after', '\nExample:\n  virtkeeper crds | kubectl apply -f -')
    .action((o: { output: string }) => {
      process.stdout.write(o.output === 'json' ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: allCrds() }, null, 2)}\n` : crdsText());
    });
}
