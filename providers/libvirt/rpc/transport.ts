// Opens the byte stream to a daemon: a Unix socket, TCP, TLS with a client certificate
// (libvirt's default pki paths), or SSH through the system `ssh` to the remote socket.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect, isIP } from 'node:net';
import { ProviderAuthError, ProviderInvalidError, ProviderTransientError } from '../../../controller/core/errors.ts';
import { connect as tlsConnect } from 'node:tls';
import { Duplex } from 'node:stream';
import { checkVerify, skipsVerify, sshArgs, type LibvirtURI, type TransportPolicy } from './uri.ts';

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

/** An ssh child process as a duplex stream: stdin out, stdout in (argv built by sshArgs, no local shell). */
function sshStream(u: LibvirtURI, policy: TransportPolicy): Duplex {
  const target = `${u.user ? `${u.user}@` : ''}${u.host}`;
  const child = spawn('ssh', sshArgs(u, policy), { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
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
  // What ssh says on failure (host key, authentication, no route) is the error's text.
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr = `${stderr}${b.toString()}`.slice(-2000);
  });
  child.on('exit', (code) => {
    if (code) d.destroy(new ProviderTransientError(`ssh to ${target} ended (exit ${code}): ${stderr.trim().split('\n').slice(-2).join('; ') || 'no message'}`));
    else d.push(null);
  });
  child.on('error', (e) => d.destroy(e));
  queueMicrotask(() => d.emit('connect'));
  return d;
}

/**
 * After the TLS handshake a libvirtd checks the client's certificate and sends one byte: 1 when
 * it accepts the client. Anything else (or a close) means it turned the client away.
 */
function checkByte(s: Duplex): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      s.destroy();
      reject(new ProviderAuthError(`libvirt TLS: the daemon refused this client (${why}); check that the client certificate in pkipath is signed by a CA the daemon trusts`));
    };
    const onReadable = () => {
      const b = s.read(1) as Buffer | null;
      if (b === null) return;
      s.off('readable', onReadable);
      s.off('end', onEnd);
      s.off('error', onError);
      if (b[0] === 1) resolve(s);
      else fail(`check byte ${b[0]}`);
    };
    const onEnd = () => fail('connection closed');
    const onError = (e: Error) => fail(e.message);
    s.on('readable', onReadable);
    s.once('end', onEnd);
    s.once('error', onError);
  });
}

export async function openTransport(u: LibvirtURI, tls: TlsFiles = {}, policy: TransportPolicy = {}): Promise<Duplex> {
  checkVerify(u, policy);
  switch (u.transport) {
    case 'unix':
      return once(netConnect({ path: u.socket }), 'connect');
    case 'tcp':
      return once(netConnect({ host: u.host ?? '127.0.0.1', port: u.port ?? 16509 }), 'connect');
    case 'tls': {
      // As libvirt's client: `pkipath=DIR` holds cacert.pem, clientcert.pem and clientkey.pem;
      // without it, the system-wide /etc/pki locations.
      const dir = u.params.pkipath;
      const read = (p: string | undefined, fallback: string) => {
        const path = p ?? fallback;
        try {
          return readFileSync(path);
        } catch {
          throw new ProviderInvalidError(`libvirt TLS: cannot read ${path}; put cacert.pem, clientcert.pem and clientkey.pem in a directory and add ?pkipath=DIR to the URI`);
        }
      };
      const socket = await once(
        tlsConnect({
          host: u.host ?? 'localhost',
          port: u.port ?? 16514,
          ...(u.host && !isIP(u.host) ? { servername: u.host } : {}),
          // spec.tls.caBundle, when the Hypervisor gives one, is the CA the host must chain to.
          ca: policy.caBundle ?? read(tls.ca, dir ? `${dir}/cacert.pem` : '/etc/pki/CA/cacert.pem'),
          cert: read(tls.cert, dir ? `${dir}/clientcert.pem` : '/etc/pki/libvirt/clientcert.pem'),
          key: read(tls.key, dir ? `${dir}/clientkey.pem` : '/etc/pki/libvirt/private/clientkey.pem'),
          rejectUnauthorized: !skipsVerify(u, policy),
        }),
        'secureConnect',
      );
      return checkByte(socket);
    }
    case 'ssh':
      return once(sshStream(u, policy), 'connect');
  }
}
