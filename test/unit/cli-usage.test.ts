/** mountctl's help, usage errors (exit 2), an unreachable server (exit 3) and a reply that is not an envelope (exit 1). */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { COMMANDS } from '../../cli/commands.js';
import { runMountctl } from '../helpers/cli.js';
import { listen } from '../helpers/http.js';
import { freePort } from '../helpers/stack.js';

test('cli help lists every command', async () => {
  const run = await runMountctl(['--help']);
  assert.equal(run.code, 0);
  for (const command of COMMANDS) assert.match(run.stdout, new RegExp(`^  ${command.name} `, 'm'), command.name);
  assert.match(run.stdout, /Exit codes: 0 ok, 1 request rejected, 2 usage error, 3 server unreachable/);
});

test('cli help for each command', async () => {
  for (const command of COMMANDS) {
    for (const args of [[command.name, '--help'], ['help', command.name], ...command.aliases.map((alias) => [alias, '-h'])]) {
      const run = await runMountctl(args);
      assert.equal(run.code, 0, args.join(' '));
      assert.match(run.stdout, new RegExp(`^Usage: mountctl ${command.name}`, 'm'), args.join(' '));
      assert.equal(run.stderr, '', args.join(' '));
    }
  }
});

test('cli help ignores missing arguments', async () => {
  const run = await runMountctl(['add', '--help']);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /-p, --path PATH/);
});

test('cli without a command exits 2', async () => {
  const run = await runMountctl([]);
  assert.equal(run.code, 2);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^Usage: mountctl COMMAND/m);
});

test('cli usage errors exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['help', 'frobnicate'], /unknown command "frobnicate"/],
    [['ls', '--bogus'], /Unknown option '--bogus'/],
    [['add', 'alice'], /missing WORKSPACE, PATH for "add"/],
    [['add', 'alice', 'ws1', '/srv', 'extra'], /unexpected argument "extra" for "add"/],
    [['rm', '-u', 'alice'], /missing WORKSPACE for "rm"/],
    [['show', 'alice', 'ws1', '--wait'], /option --wait is not valid for "show"/],
    [['ls', '--desc', 'x'], /option --desc is not valid for "ls"/],
    [['status'], /missing OPERATION for "status"/],
    [['ls', '--lang', 'fr'], /--lang "fr" is invalid: expected en or zh-CN/],
    [['ls', '--url', 'not a url'], /--url "not a url" is not a URL/],
    [['ls', '--url', 'ftp://127.0.0.1/api'], /must be an http or https URL/],
    [['restart', '--timeout', '0'], /--timeout "0" is invalid/],
    [['--wait'], /option --wait needs a command/],
  ];
  for (const [args, message] of cases) {
    const run = await runMountctl(args);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, message, args.join(' '));
    assert.match(run.stderr, /Run "mountctl (\w+ )?--help" for usage\./, args.join(' '));
    assert.equal(run.stdout, '', args.join(' '));
  }
});

test('cli exits 3 when nothing listens', async () => {
  const url = `http://127.0.0.1:${await freePort()}/api`;
  const run = await runMountctl(['ls', '--url', url]);
  assert.equal(run.code, 3);
  assert.match(run.stderr, new RegExp(`cannot reach ${url}/mounts: ECONNREFUSED`));
});

test('cli reads the url from MOUNTCTL_URL', async () => {
  const url = `http://127.0.0.1:${await freePort()}/api`;
  const run = await runMountctl(['ls'], { MOUNTCTL_URL: url });
  assert.equal(run.code, 3);
  assert.match(run.stderr, new RegExp(`cannot reach ${url}/mounts`));
});

test('cli exits 1 on a reply that is not an envelope', async (t) => {
  const origin = await listen(
    t,
    createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>not here</h1>');
    }),
  );
  const run = await runMountctl(['ls', '--url', `${origin}/api`]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /unexpected reply from .*: HTTP 404 with text\/html, not a JSON envelope; check --url/);
});
