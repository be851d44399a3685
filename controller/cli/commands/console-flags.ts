// `run --console-listen HOST:PORT [--console-tls-cert F --console-tls-key F] [--console-url URL]`:
// the Kubernetes-mode console endpoint's flags, checked before the controller starts.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConsoleListenError } from '../../runtime/modes/console-errors.ts';
import { type ConsoleListen, parseListen } from '../../runtime/modes/console-endpoint.ts';

export interface ConsoleFlags {
  consoleListen?: string;
  consoleTlsCert?: string;
  consoleTlsKey?: string;
  consoleUrl?: string;
}

export function addConsoleOptions(cmd: Command): Command {
  return cmd
    .option('--console-listen <host:port>', 'Kubernetes: serve `virtkeeper console --kubeconfig` here (plain HTTP only on loopback; otherwise give the TLS flags)')
    .option('--console-tls-cert <file>', 'Kubernetes: PEM certificate (chain) of the console endpoint')
    .option('--console-tls-key <file>', 'Kubernetes: PEM private key of the console endpoint')
    .option('--console-url <url>', 'Kubernetes: the URL published in ConfigMap virtkeeper-console for clients (default: the listen address; behind a Service, its URL)');
}

/** The endpoint's listen options, or undefined when --console-listen is not given. */
export async function consoleListenFrom(f: ConsoleFlags): Promise<(ConsoleListen & { url?: string }) | undefined> {
  if (!f.consoleListen) {
    if (f.consoleTlsCert || f.consoleTlsKey || f.consoleUrl) throw new ConsoleListenError('--console-tls-cert, --console-tls-key and --console-url need --console-listen HOST:PORT');
    return undefined;
  }
  if (!!f.consoleTlsCert !== !!f.consoleTlsKey) throw new ConsoleListenError('give both --console-tls-cert and --console-tls-key, or neither (plain HTTP on loopback)');
  if (f.consoleUrl && !/^https?:\/\/[^/\s]+\/?$/.test(f.consoleUrl))
    throw new ConsoleListenError(`--console-url ${f.consoleUrl} is not a URL like https://virtkeeper-console.virtkeeper-system.svc:8443`);
  const read = async (file: string, what: string) =>
    readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new ConsoleListenError(`cannot read the console endpoint's TLS ${what} ${file}: ${e.code ?? e.message}`);
    });
  const tls = f.consoleTlsCert && f.consoleTlsKey ? { cert: await read(f.consoleTlsCert, 'certificate'), key: await read(f.consoleTlsKey, 'key') } : undefined;
  const { host } = parseListen(f.consoleListen, !!tls);
  // A wildcard address is no URL a client can reach: what is published must be said.
  if (/^(0\.0\.0\.0|::)$/.test(host) && !f.consoleUrl)
    throw new ConsoleListenError(
      `--console-listen ${f.consoleListen} listens on every address: give --console-url with the address clients reach (e.g. the Service https://virtkeeper-console.virtkeeper-system.svc:8443)`,
    );
  return { listen: f.consoleListen, ...(tls ? { tls } : {}), ...(f.consoleUrl ? { url: f.consoleUrl.replace(/\/$/, '') } : {}) };
}
