/**
 * The baseline for idle memory: a node:http server with no dependencies that
 * replies to every request with a small JSON body. Reads PORT, listens on
 * 127.0.0.1 and prints one JSON line when it listens.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? '0');
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"success":true}');
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ message: 'bare server started', port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
