// The controller's small HTTP server: /metrics (Prometheus), /healthz (alive while the process
// runs) and, in Kubernetes mode, /readyz (the caches are synced).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from '../metrics.ts';

export interface ServeOptions {
  metrics: Metrics;
  port: number;
  host: string;
  /** Serves /readyz from this; any other path then answers 503 (as probes expect), not 404. */
  ready?: () => boolean;
}

export interface Serving {
  port: number;
  close(): void;
}

export async function serveHealth(o: ServeOptions): Promise<Serving> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(o.metrics.render());
      return;
    }
    if (!o.ready) {
      res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' }).end(req.url === '/healthz' ? 'ok' : 'not found');
      return;
    }
    const ok = req.url === '/healthz' || (req.url === '/readyz' && o.ready());
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
  });
  await new Promise<void>((r) => server.listen(o.port, o.host, () => r()));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}
