import type { Command } from 'commander';
import { hypervisorPool, type GlobalOptions } from '../context.ts';
import { type FolderTarget, FolderTargetError, folderTarget } from '../folder-target.ts';
import { RefusedError } from '../../core/errors.ts';
import { EXIT } from '../exit-codes.ts';

async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function execCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('exec')
    .description('run a command in a VM through the QEMU guest agent (Proxmox and libvirt VMs); stdin is passed when piped')
    .argument('<vm>', 'VirtualMachine name')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-f, --filename <dir>', 'the manifests folder the VM is declared in', '.')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--timeout <seconds>', 'give up waiting after this long', '300')
    .option('--instance <id>', 'controller instance named in VM markers, as given to apply (default: derived from the state directory)')
    .addHelpText(
      'after',
      "\nExample:\n  virtkeeper exec web-1 -f ./vms -- cat /etc/os-release\n  echo hello | virtkeeper exec web-1 -f ./vms -- cat\n\nExit status: the command's own exit code; 1 when it could not be run.",
    )
    .action(async (vmName: string, command: string[], o: { filename: string; namespace: string; timeout: string; instance?: string }) => {
      const g = globals();
      let found: FolderTarget;
      try {
        found = await folderTarget(vmName, o, g);
      } catch (e) {
        if (!(e instanceof FolderTargetError)) throw e;
        process.stderr.write(`error: ${e.message} [${e.code}]\n`);
        process.exitCode = EXIT.failed;
        return;
      }
      const { hypervisor: hv, target, logger } = found;
      const pool = hypervisorPool(logger, g);
      try {
        const conn = await pool.get(hv);
        if (!conn.client.guest) {
          process.stderr.write(`error: the ${hv.spec.type} provider has no guest agent exec [VK_UNSUPPORTED]\n`);
          process.exitCode = EXIT.failed;
          return;
        }
        const input = await readStdin();
        // The provider re-reads the VM and runs nothing unless its marker names this resource
        // (and instance): the id in the state file may since belong to another VM.
        const r = await conn.client.guest.exec(target, command, { timeoutMs: Number(o.timeout) * 1000, ...(input !== undefined ? { input } : {}) });
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.exitCode;
      } catch (e) {
        if (!(e instanceof RefusedError)) throw e;
        process.stderr.write(
          `error: ${e.message}. The state directory may name an id another VM has taken since: run \`virtkeeper apply -f ${o.filename}\` to observe again, then retry [${e.code}]\n`,
        );
        process.exitCode = EXIT.failed;
      } finally {
        await pool.closeAll();
      }
    });
}
