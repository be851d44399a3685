// A VNC client's first steps (RFB 3.8 and VNC authentication, RFC 6143 §7.1–7.2.2), enough to
// prove a console ticket: the version handshake, then the DES challenge answered with a
// password; resolves with the server's security result (0: accepted).
import { createCipheriv } from 'node:crypto';
import { connect, type Socket } from 'node:net';

function reader(sock: Socket) {
  let buf = Buffer.alloc(0);
  let want: { n: number; resolve: (b: Buffer) => void } | undefined;
  const pump = () => {
    if (want && buf.length >= want.n) {
      const out = buf.subarray(0, want.n);
      buf = buf.subarray(want.n);
      const w = want;
      want = undefined;
      w.resolve(out);
    }
  };
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    pump();
  });
  return (n: number) =>
    new Promise<Buffer>((resolve, reject) => {
      want = { n, resolve };
      sock.once('error', reject);
      sock.once('close', () => reject(new Error(`connection closed waiting for ${n} bytes`)));
      pump();
    });
}

/** VNC's DES key: the password's first 8 bytes, each with its bits reversed; single DES as 3DES with one key thrice. */
export function vncResponse(challenge: Buffer, password: string): Buffer {
  const key = Buffer.alloc(8);
  Buffer.from(password, 'latin1').copy(key, 0, 0, 8);
  for (let i = 0; i < 8; i++) {
    let b = key[i] ?? 0;
    let r = 0;
    for (let j = 0; j < 8; j++) {
      r = (r << 1) | (b & 1);
      b >>= 1;
    }
    key[i] = r;
  }
  const cipher = createCipheriv('des-ede3-ecb', Buffer.concat([key, key, key]), null).setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

export async function vncLogin(host: string, port: number, password: string): Promise<{ version: string; result: number }> {
  const sock = connect({ host, port });
  try {
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const read = reader(sock);
    const version = (await read(12)).toString('latin1');
    sock.write('RFB 003.008\n');
    const count = (await read(1))[0] ?? 0;
    const types = [...(await read(count))];
    if (!types.includes(2)) throw new Error(`server offers security types ${types.join(',')}, not VNC authentication`);
    sock.write(Buffer.from([2]));
    sock.write(vncResponse(await read(16), password));
    return { version, result: (await read(4)).readUInt32BE(0) };
  } finally {
    sock.destroy();
  }
}
