/**
 * The dev proxy's exit on SIGTERM. servers/dev-proxy/main.ts is spawned and
 * one request goes through it to a stub monitor, so that keep-alive
 * connections stay open on both sides (or none is made). Then SIGTERM is sent
 * at once or after a pause, and this process measures the time until the
 * proxy exits. The pause shows whether work that the first request started
 * delays the exit. While the proxy forwarded with undici, V8 compiled undici's
 * WebAssembly HTTP parser in the background after its first use, and the
 * process only exited once that compilation had finished.
 *
 * Run: node --import tsx bench/proxy-exit.ts [--short] [--runs N] [--json FILE]
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { parseBenchArgs } from './lib/args.js';
import { REPO_ROOT } from './lib/build.js';
import { freePort, startProcess, stopProcess } from './lib/process.js';
import { Recorder } from './lib/report.js';

/** Starts a stand-in for the monitor that replies to GET /api/health as a healthy monitor does. */
async function startStubMonitor(): Promise<Server> {
  const server = createServer((req, res) => {
    const body = JSON.stringify({ success: true, message: 'ok', data: { status: 'ok' } });
    res.writeHead(req.url === '/api/health' ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const recorder = new Recorder('proxy-exit');
  const stub = await startStubMonitor();
  const monitorApi = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/api`;
  const variants = [
    { key: 'idle', request: false, pauseMs: 0, label: 'dev proxy: SIGTERM to exit, no request ever made' },
    { key: 'fresh', request: true, pauseMs: 0, label: 'dev proxy: SIGTERM to exit, right after its first request (keep-alive connections open)' },
    { key: 'settled', request: true, pauseMs: 3000, label: 'dev proxy: SIGTERM to exit, 3 s after its first request (keep-alive connections open)' },
  ];
  const samples = new Map<string, number[]>(variants.map((variant) => [variant.key, []]));

  try {
    for (let run = 0; run < args.runs; run++) {
      for (const variant of variants) {
        const port = await freePort();
        const proxy = await startProcess(process.execPath, ['--import', 'tsx', 'servers/dev-proxy/main.ts'], {
          ready: 'dev proxy started',
          env: { HOST: '127.0.0.1', PORT: String(port), MONITOR_API: monitorApi, LOG_LEVEL: 'info' },
        });
        const agent = new Agent({ keepAliveTimeout: 30_000 });
        try {
          if (variant.request) {
            const reply = await request(`http://127.0.0.1:${port}/api/mounts/test-monitor`, { dispatcher: agent });
            const body = (await reply.body.json()) as { data?: { status?: string } };
            if (reply.statusCode !== 200 || body.data?.status !== 'connected') throw new Error(`proxy health returned ${reply.statusCode}: ${JSON.stringify(body)}`);
          }
          await new Promise((resolve) => setTimeout(resolve, variant.pauseMs));
          const exitMs = await stopProcess(proxy);
          if (proxy.child.exitCode !== 0) throw new Error(`the proxy exited with ${proxy.child.exitCode ?? proxy.child.signalCode} after SIGTERM`);
          samples.get(variant.key)!.push(exitMs);
        } finally {
          await agent.close();
        }
      }
    }
  } finally {
    stub.closeAllConnections();
    await new Promise<void>((resolve) => stub.close(() => resolve()));
  }

  const group = 'Downtime';
  for (const variant of variants) recorder.figure(`proxy-exit.${variant.key}`, group, variant.label, 'ms', samples.get(variant.key)!);
  recorder.note(
    `The proxy runs as \`node --import tsx servers/dev-proxy/main.ts\` from ${REPO_ROOT === process.cwd() ? 'the repository root' : REPO_ROOT}; the time runs from kill(SIGTERM) in this process to the child's exit event.`,
  );
  await recorder.save(args.json);
}

await main();
