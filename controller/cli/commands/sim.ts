import type { Command } from 'commander';

/** `virtkeeper sim proxmox|ovirt [flags]`: runs a simulator until interrupted. */
export function simCommand(program: Command): void {
  program
    .command('sim')
    .description('run a built-in hypervisor API simulator on loopback (proxmox or ovirt)')
    .argument('<type>', 'proxmox | ovirt')
    .argument('[args...]', 'simulator flags (see `virtkeeper sim proxmox --help`)')
    .allowUnknownOption(true)
    .helpOption(false)
    .addHelpText(
      'after',
      '\nExample:\n  virtkeeper sim proxmox --nodes 3 --templates ubuntu-24.04,redos-8 --write-hypervisor hv.yaml\n  virtkeeper sim ovirt --name e15-test --write-hypervisor e15.yaml',
    )
    .action(async (type: string, args: string[]) => {
      if (type !== 'proxmox' && type !== 'ovirt') {
        process.stderr.write(`error: unknown simulator "${type}": expected proxmox or ovirt\n`);
        process.exitCode = 64;
        return;
      }
      const mod = (await import(`../../../providers/${type}/simulator/main.ts`)) as { main(argv: string[]): Promise<void> };
      await mod.main(args);
    });
}
