import type { Command } from 'commander';
import { KINDS, resolveKind, type KindInfo } from '../../api/kinds.ts';
import type { StatusRecord } from '../../status/writer.ts';
import { stateFor, sleep, type GlobalOptions } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { printStructured } from '../output.ts';
import { renderTable } from '../render-get.ts';

interface GetOpts {
  filename?: string;
  output?: string;
  watch?: boolean;
}

function asObject(r: StatusRecord): object {
  const base = r.lastApplied ?? { apiVersion: 'virtkeeper.io/v1alpha1', kind: r.kind, metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) } };
  return { ...base, status: r.status, ...(r.problems ? { problems: r.problems } : {}) };
}

export function getCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('get')
    .description('show resources and their status as kubectl get does (directory mode: from the state directory)')
    .argument('[kind]', 'kind, plural or short name (vkvm, hv, vknet, vkdisk, vktpl, vkvmset, vksnap, vkrestore, vksnapsched); all kinds when omitted')
    .argument('[name]', 'one resource')
    .option('-f, --filename <dir>', 'the manifests folder whose state to show', '.')
    .option('-o, --output <format>', 'wide | yaml | json')
    .option('-w, --watch', 'keep printing as the status changes')
    .addHelpText('after', '\nExample:\n  virtkeeper get vkvm -f ./vms -o wide\n  virtkeeper get vkvm web-1 -f ./vms -o yaml')
    .action(async (kindArg: string | undefined, name: string | undefined, o: GetOpts) => {
      let kinds: KindInfo[] = Object.values(KINDS);
      if (kindArg && kindArg !== 'all' && kindArg !== 'virtkeeper') {
        const k = resolveKind(kindArg);
        if (!k) {
          process.stderr.write(
            `error: unknown resource type "${kindArg}"; try one of: ${Object.values(KINDS)
              .flatMap((x) => x.shortNames)
              .join(', ')}\n`,
          );
          process.exitCode = EXIT.usage;
          return;
        }
        kinds = [k];
      }
      const state = stateFor(o.filename ?? '.', globals());
      let previous = '';
      for (;;) {
        const records = (await state.list()).filter((r) => kinds.some((k) => k.kind === r.kind) && (!name || r.name === name));
        let text: string;
        if (o.output === 'json' || o.output === 'yaml') {
          const items = records.map(asObject);
          text = '';
          if (!o.watch) {
            printStructured(name && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items }, o.output);
          } else text = JSON.stringify(items);
        } else {
          const blocks = kinds.map((k) => ({ k, rs: records.filter((r) => r.kind === k.kind) })).filter((b) => b.rs.length > 0);
          text = blocks.map((b) => renderTable(b.k, b.rs, { wide: o.output === 'wide', nowMs: Date.now() })).join('\n\n');
          if (!o.watch || text !== previous) process.stdout.write(`${text || 'No resources found.'}\n${o.watch ? '\n' : ''}`);
        }
        if (name && records.length === 0 && !o.watch) {
          process.stderr.write(`error: ${kinds[0]?.kind ?? 'resource'} "${name}" not found in ${state.dir}\n`);
          process.exitCode = EXIT.failed;
        }
        if (!o.watch) return;
        previous = text;
        await sleep(1000);
      }
    });
}
