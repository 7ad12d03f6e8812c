/**
 * A stand-in for the Docker daemon that returns GET /_ping and every other
 * GET with one recorded body, so that a client benchmark measures the
 * clients rather than the daemon. Serves on the unix socket given as the
 * first argument, with the JSON body read from the file given as the second,
 * and prints one JSON line when it listens.
 *
 * Usage: node --import tsx bench/children/stub-engine.ts SOCKET BODY_FILE API_VERSION
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';

const [socketPath, bodyFile, apiVersion = '1.45'] = process.argv.slice(2);
if (!socketPath || !bodyFile) {
  console.error('usage: stub-engine.ts SOCKET BODY_FILE API_VERSION');
  process.exit(2);
}
const body = readFileSync(bodyFile);
rmSync(socketPath, { force: true });
const server = createServer((req, res) => {
  if (req.url === '/_ping') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'api-version': apiVersion });
    res.end('OK');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'api-version': apiVersion, 'content-length': body.length });
  res.end(body);
});
server.listen(socketPath, () => process.stdout.write(`${JSON.stringify({ message: 'stub engine started', socket: socketPath })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
