// kubectl against the test bed's kube-apiserver as the suites run it: a kubeconfig, optional
// stdin, stdout back, stderr as the error.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export function kubectlWith(kubeconfig: string): (args: string[], input?: string) => Promise<string> {
  return (args, input) =>
    new Promise((resolve, reject) => {
      const p = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { cwd: root });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err || out))));
      p.stdin.end(input ?? '');
    });
}
