/**
 * Mounts the development-container proxy in an existing node:http service.
 * Requests below /api/mounts go to the proxy, which forwards them to the
 * monitor; everything else reaches the service's own routes through `next`.
 *
 * Run: MONITOR_API=http://127.0.0.1:8089/api PORT=3000 node examples/embed-proxy.js
 * (after `npm run build`, or with `node --import tsx` from a checkout).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDevProxyHandler } from 'mount-core/dev-proxy';

// The monitor's API. The product default names the compose service
// (http://openmanus-monitor:8089/api); this example defaults to the local machine.
const monitorApi = process.env.MONITOR_API ?? 'http://127.0.0.1:8089/api';
const port = Number(process.env.PORT ?? 3000);

const mounts = createDevProxyHandler({
  monitorApi,
  token: process.env.MONITOR_TOKEN,
  language: 'en',
  onError: (error, req) => console.error(JSON.stringify({ level: 'warn', message: 'mount request failed', method: req.method, path: req.url, error: String(error) })),
});

/** Serves the service's own routes. */
function serviceRoutes(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/hello') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('hello from the service\n');
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
}

const server = createServer((req, res) => mounts(req, res, () => serviceRoutes(req, res)));

server.listen(port, '127.0.0.1', () => {
  const { port: bound } = server.address() as AddressInfo;
  console.log(JSON.stringify({ message: 'service started', url: `http://127.0.0.1:${bound}`, monitor_api: monitorApi }));
});

// Close the proxy's connection pool after the server, so that responses in flight finish first.
process.once('SIGTERM', () => {
  server.close(() => {
    void mounts.close().then(() => console.log(JSON.stringify({ message: 'service stopped' })));
  });
  server.closeIdleConnections();
});
