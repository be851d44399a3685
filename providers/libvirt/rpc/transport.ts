// Opens the byte stream to a daemon: a Unix socket, TCP, TLS with a client certificate
// (libvirt's default pki paths), or SSH through the system `ssh` to the remote socket.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Duplex } from 'node:stream';
import type { LibvirtURI } from './uri.ts';

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

function once(s: Duplex, ok: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    s.once(ok, () => resolve(s));
    s.once('error', reject);
  });
}

/** An ssh child process as a duplex stream: stdin out, stdout in. */
function sshStream(u: LibvirtURI): Duplex {
  const target = `${u.user ? `${u.user}@` : ''}${u.host}`;
  const args = ['-T', '-o', 'BatchMode=yes', ...(u.port && u.port !== 22 ? ['-p', String(u.port)] : []), ...(u.params.keyfile ? ['-i', u.params.keyfile] : []), target, `nc -U ${u.socket} 2>/dev/null || virt-ssh-helper ${u.remoteName}`];
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const d = new Duplex({
    write(chunk, _enc, cb) {
      child.stdin.write(chunk, cb);
    },
    read() {},
    final(cb) {
      child.stdin.end(cb);
    },
    destroy(err, cb) {
      child.kill();
      cb(err);
    },
  });
  child.stdout.on('data', (b: Buffer) => d.push(b));
  child.on('exit', () => d.push(null));
  child.on('error', (e) => d.destroy(e));
  queueMicrotask(() => d.emit('connect'));
  return d;
}

export async function openTransport(u: LibvirtURI, tls: TlsFiles = {}): Promise<Duplex> {
  switch (u.transport) {
    case 'unix':
      return once(netConnect({ path: u.socket }), 'connect');
    case 'tcp':
      return once(netConnect({ host: u.host ?? '127.0.0.1', port: u.port ?? 16509 }), 'connect');
    case 'tls': {
      const pki = '/etc/pki';
      const read = (p: string | undefined, fallback: string) => readFileSync(p ?? fallback);
      return once(
        tlsConnect({
          host: u.host ?? 'localhost', port: u.port ?? 16514, servername: u.host,
          ca: read(tls.ca, `${pki}/CA/cacert.pem`), cert: read(tls.cert, `${pki}/libvirt/clientcert.pem`), key: read(tls.key, `${pki}/libvirt/private/clientkey.pem`),
          rejectUnauthorized: u.params.no_verify !== '1',
        }),
        'secureConnect',
      );
    }
    case 'ssh':
      return once(sshStream(u), 'connect');
  }
}
