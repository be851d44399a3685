// Reading a remote-viewer (.vv) file and doing what remote-viewer does first with it.
import { request } from 'node:http';
import { connect as tcp } from 'node:net';

/** The `key=value` lines of a remote-viewer file. */
export function parseViewerFile(text: string): Record<string, string> {
  const [head, ...lines] = text.trimEnd().split('\n');
  if (head !== '[virt-viewer]') throw new Error(`not a remote-viewer file: ${head}`);
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** What remote-viewer asks the SPICE proxy first: CONNECT <host>:<tls-port>. */
export function spiceConnect(proxy: string, host: string, port: string): Promise<number> {
  const u = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: 'CONNECT', path: `${host}:${port}` });
    req.on('connect', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a viewer does first at a simulated display: connect and present the password; the display's answer (`OK <vm>` or `DENIED`). */
export function presentPassword(port: number, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tcp({ host: '127.0.0.1', port }, () => s.write(`${password}\n`));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
    });
    s.on('end', () => resolve(got.trim()));
    s.on('error', reject);
  });
}
