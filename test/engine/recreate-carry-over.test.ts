/**
 * A recreate that adds one managed mount must keep every other field of the
 * container's inspect. The containers sit on `--internal` networks made here
 * (the engines run without a bridge) and nothing is ever sent to them: their
 * networks, aliases and the 127.0.0.1 port binding are checked through
 * inspect only. An internal network publishes no ports, so the binding is
 * configuration that must survive, not a listening socket.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerClient, type ContainerInspect, type MountPoint } from '../../lib/docker/index.js';
import { recreateContainer } from '../../lib/recreate/recreate.js';
import { buildReplacementSpec } from '../../lib/recreate/spec.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { docker, engineSkip, findEngine, uniqueName, removeContainers } from '../helpers/engine.js';

const engine = await findEngine();
const isManaged = managedTargetTest('/workspace');
const MANAGED_TARGET = '/workspace/u1/carry';

/** Reads a dotted path such as `HostConfig.RestartPolicy` from an inspect. */
function field(inspect: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], inspect);
}

const sorted = (value: unknown): unknown => (Array.isArray(value) ? [...value].sort() : value);

describe('recreate carries over the configuration', { skip: engineSkip(engine) }, () => {
  let client: DockerClient;
  let root: string;
  const containers: string[] = [];
  const networks: string[] = [];
  const volumes: string[] = [];
  const tags: string[] = [];

  let name: string;
  let first: ContainerInspect;
  let second: ContainerInspect;
  let imageId: string;
  let network1: string;
  let network2: string;
  let namedVolume: string;
  let readOnlyFolder: string;
  let managedFolder: string;

  before(async () => {
    client = new DockerClient({ host: engine!.host });
    root = await mkdtemp(join(tmpdir(), 'mc-carry-'));
    readOnlyFolder = join(root, 'ro');
    managedFolder = join(root, 'managed');
    await mkdir(readOnlyFolder);
    await mkdir(managedFolder);
    await writeFile(join(readOnlyFolder, 'marker.txt'), 'read-only');
    await writeFile(join(managedFolder, 'marker.txt'), 'managed');
    imageId = (await docker(engine!, ['image', 'inspect', '--format', '{{.Id}}', 'local/busybox:test'])).trim();

    network1 = uniqueName('mc-carry-net1');
    network2 = uniqueName('mc-carry-net2');
    for (const network of [network1, network2]) {
      await docker(engine!, ['network', 'create', '--internal', network]);
      networks.push(network);
    }
    namedVolume = uniqueName('mc-carry-vol');
    await docker(engine!, ['volume', 'create', namedVolume]);
    volumes.push(namedVolume);

    name = uniqueName('mc-carry');
    containers.push(name);
    await docker(engine!, [
      'run', '-d', '--pull', 'never', '--name', name,
      '--network', network1, '--network-alias', 'carry-a1', '--network-alias', 'carry-a1b',
      '--hostname', 'carry-host',
      '--entrypoint', '/bin/sh',
      '--env', 'FOO=bar', '--env', 'SPACED=a b',
      '--user', '1000:1000', '--workdir', '/tmp/work',
      '--label', 'com.docker.compose.project=mc-carry', '--label', 'com.docker.compose.service=dev', '--label', 'mc.test=carry',
      '--publish', '127.0.0.1::8080',
      '--restart', 'on-failure:3', '--init',
      '--health-cmd', 'true', '--health-interval', '1s', '--health-retries', '3',
      '--stop-signal', 'SIGUSR1', '--stop-timeout', '1',
      '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN',
      '--memory', '64m', '--cpus', '0.5', '--ulimit', 'nofile=1024:2048',
      '--add-host', 'carry.test:127.0.0.2', '--dns-option', 'ndots:2', '--dns-search', 'example.test',
      '--tmpfs', '/scratch:size=1m',
      '--volume', `${namedVolume}:/data`, '--volume', '/anon', '--volume', `${readOnlyFolder}:/ro:ro`,
      'local/busybox:test', '-c', 'exec sleep 3600',
    ]);
    await docker(engine!, ['network', 'connect', '--alias', 'carry-a2', '--alias', 'carry-a2b', network2, name]);
    await docker(engine!, ['exec', '--user', '0', name, 'sh', '-c', 'echo named > /data/f && echo anonymous > /anon/f']);
    first = await client.containerInspect({ id: name });

    await recreateContainer({
      engine: client,
      container: name,
      mounts: [{ local_path: managedFolder, container_path: MANAGED_TARGET, read_only: false }],
      isManaged,
      operationId: 'op_carry',
      minUptimeMs: 300,
    });
    second = await client.containerInspect({ id: name });
  });

  after(async () => {
    await removeContainers(engine!, containers);
    for (const network of networks) await docker(engine!, ['network', 'rm', network]).catch(() => undefined);
    for (const volume of volumes) await docker(engine!, ['volume', 'rm', volume]).catch(() => undefined);
    for (const tag of tags) await docker(engine!, ['image', 'rm', tag]).catch(() => undefined);
    await client?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('replacement runs under the same name', () => {
    assert.notEqual(second.Id, first.Id);
    assert.equal(second.Name, first.Name);
    assert.equal(second.State.Running, true);
    assert.equal(second.State.Health?.Status, 'healthy');
  });

  // Each row: a field the test set up and the value it must have had, in an order-free form where the CLI's
  // order varies. After the recreate the field must be exactly as it was, order included.
  const rows: Array<{ path: string; expected: () => unknown; normalize?: (value: unknown) => unknown }> = [
    { path: 'Image', expected: () => imageId },
    { path: 'Config.Image', expected: () => 'local/busybox:test' },
    { path: 'Config.Entrypoint', expected: () => ['/bin/sh'] },
    { path: 'Config.Cmd', expected: () => ['-c', 'exec sleep 3600'] },
    { path: 'Config.Env', expected: () => ['FOO=bar', 'SPACED=a b'], normalize: sorted },
    { path: 'Config.User', expected: () => '1000:1000' },
    { path: 'Config.WorkingDir', expected: () => '/tmp/work' },
    { path: 'Config.Hostname', expected: () => 'carry-host' },
    {
      path: 'Config.Labels',
      expected: () => ({ 'com.docker.compose.project': 'mc-carry', 'com.docker.compose.service': 'dev', 'mc.test': 'carry' }),
    },
    { path: 'Config.ExposedPorts', expected: () => ({ '8080/tcp': {} }) },
    { path: 'Config.Healthcheck', expected: () => ({ Test: ['CMD-SHELL', 'true'], Interval: 1_000_000_000, Retries: 3 }) },
    { path: 'Config.StopSignal', expected: () => 'SIGUSR1' },
    { path: 'Config.StopTimeout', expected: () => 1 },
    { path: 'Config.Volumes', expected: () => ({ '/anon': {} }) },
    { path: 'HostConfig.PortBindings', expected: () => ({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }) },
    { path: 'HostConfig.RestartPolicy', expected: () => ({ Name: 'on-failure', MaximumRetryCount: 3 }) },
    { path: 'HostConfig.Init', expected: () => true },
    { path: 'HostConfig.CapAdd', expected: () => ['CAP_NET_ADMIN'] },
    { path: 'HostConfig.CapDrop', expected: () => ['CAP_CHOWN'] },
    { path: 'HostConfig.Memory', expected: () => 64 * 1024 * 1024 },
    { path: 'HostConfig.NanoCpus', expected: () => 500_000_000 },
    { path: 'HostConfig.Ulimits', expected: () => [{ Name: 'nofile', Hard: 2048, Soft: 1024 }] },
    { path: 'HostConfig.ExtraHosts', expected: () => ['carry.test:127.0.0.2'] },
    { path: 'HostConfig.DnsOptions', expected: () => ['ndots:2'] },
    { path: 'HostConfig.DnsSearch', expected: () => ['example.test'] },
    { path: 'HostConfig.Tmpfs', expected: () => ({ '/scratch': 'size=1m' }) },
    { path: 'HostConfig.Binds', expected: () => [`${namedVolume}:/data`, `${readOnlyFolder}:/ro:ro`].sort(), normalize: sorted },
    { path: 'HostConfig.NetworkMode', expected: () => network1 },
  ];
  for (const row of rows) {
    test(`keeps ${row.path}`, () => {
      const normalize = row.normalize ?? ((value: unknown) => value);
      assert.deepEqual(normalize(field(first, row.path)), row.expected(), `the test container did not get ${row.path}`);
      assert.deepEqual(field(second, row.path), field(first, row.path));
    });
  }

  /** Returns the aliases and DNS names of an endpoint, with the container's own short id replaced by a placeholder. */
  function endpointNames(inspect: ContainerInspect, network: string): { aliases: unknown; dnsNames: unknown } {
    const endpoint = inspect.NetworkSettings.Networks[network];
    assert.ok(endpoint, `${inspect.Name} is not attached to ${network}`);
    const shortId = inspect.Id.slice(0, 12);
    const rename = (list: unknown): unknown => {
      if (!Array.isArray(list)) return list;
      return list.map((alias) => (alias === shortId ? '<short-id>' : alias));
    };
    return { aliases: rename(endpoint.Aliases), dnsNames: rename(endpoint.DNSNames) };
  }

  test('keeps both networks and their aliases', () => {
    assert.deepEqual(Object.keys(second.NetworkSettings.Networks).sort(), [network1, network2].sort());
    const userAliases = { [network1]: ['carry-a1', 'carry-a1b'], [network2]: ['carry-a2', 'carry-a2b'] };
    for (const network of [network1, network2]) {
      const was = endpointNames(first, network);
      const now = endpointNames(second, network);
      for (const alias of userAliases[network]!) assert.ok((was.aliases as string[]).includes(alias), `alias ${alias} on ${network}`);
      assert.deepEqual(now.aliases, was.aliases, `aliases on ${network}`);
      assert.deepEqual(now.dnsNames, was.dnsNames, `DNS names on ${network}`);
      assert.equal(second.NetworkSettings.Networks[network]!.NetworkID, first.NetworkSettings.Networks[network]!.NetworkID);
    }
  });

  const volumeByTarget = (inspect: ContainerInspect, target: string): MountPoint | undefined =>
    inspect.Mounts.find((mount) => mount.Destination === target);

  test('re-attaches named and anonymous volumes', async () => {
    for (const target of ['/data', '/anon']) {
      const was = volumeByTarget(first, target);
      const now = volumeByTarget(second, target);
      assert.equal(was?.Type, 'volume');
      assert.equal(now?.Name, was?.Name, `volume at ${target}`);
      assert.equal(now?.RW, true);
    }
    assert.equal((await docker(engine!, ['exec', name, 'cat', '/data/f'])).trim(), 'named');
    assert.equal((await docker(engine!, ['exec', name, 'cat', '/anon/f'])).trim(), 'anonymous');
  });

  test('keeps read-only bind, adds managed one', async () => {
    const readOnly = volumeByTarget(second, '/ro');
    assert.equal(readOnly?.Source, readOnlyFolder);
    assert.equal(readOnly?.RW, false);
    const managed = volumeByTarget(second, MANAGED_TARGET);
    assert.equal(managed?.Type, 'bind');
    assert.equal(managed?.Source, managedFolder);
    assert.equal((await docker(engine!, ['exec', name, 'cat', `${MANAGED_TARGET}/marker.txt`])).trim(), 'managed');
  });

  /**
   * Fields that differ by design, each with its reason. Everything else in the
   * inspect must be equal after the recreate.
   */
  const EXPECTED_DIFFERENCES: Array<{ path: string; reason: string }> = [
    { path: 'Id', reason: 'the replacement is a new container' },
    { path: 'Created', reason: 'the replacement was created later' },
    { path: 'State', reason: 'the replacement has its own process, start time and health log' },
    { path: 'ResolvConfPath', reason: 'a per-container file whose path holds the container id' },
    { path: 'HostnamePath', reason: 'a per-container file whose path holds the container id' },
    { path: 'HostsPath', reason: 'a per-container file whose path holds the container id' },
    { path: 'LogPath', reason: 'a per-container file whose path holds the container id' },
    { path: 'GraphDriver', reason: 'the replacement has its own writable layer' },
    { path: 'Mounts', reason: 'the managed mount is added; the other mounts are compared above' },
    { path: 'HostConfig.Mounts', reason: 'it gains the managed mount and the anonymous volume, which is re-attached by name' },
    { path: 'NetworkSettings.SandboxID', reason: 'the replacement has its own network namespace' },
    { path: 'NetworkSettings.SandboxKey', reason: 'the path of the new network namespace' },
    {
      path: 'NetworkSettings.Networks',
      reason: 'endpoint ids, addresses and MAC addresses are assigned at start, and aliases hold the short id; compared above',
    },
  ];

  test('changes nothing else in the inspect', () => {
    const strip = (inspect: ContainerInspect): Record<string, unknown> => {
      const copy = structuredClone(inspect) as Record<string, unknown>;
      for (const { path } of EXPECTED_DIFFERENCES) {
        const keys = path.split('.');
        const last = keys.pop()!;
        const parent = (keys.length === 0 ? copy : field(copy, keys.join('.'))) as Record<string, unknown> | undefined;
        if (parent) delete parent[last];
      }
      return copy;
    };
    assert.deepEqual(strip(second), strip(first));
  });

  test('keeps image id and NONE healthcheck', async () => {
    const tag = `${uniqueName('local/mc-carry-tag')}:test`;
    await docker(engine!, ['tag', 'local/busybox:test', tag]);
    tags.push(tag);
    const plain = uniqueName('mc-carry-nohc');
    containers.push(plain);
    await docker(engine!, ['run', '-d', '--pull', 'never', '--name', plain, '--network', 'none', '--stop-timeout', '1', '--init', '--no-healthcheck', tag]);
    const was = await client.containerInspect({ id: plain });
    // Point the tag at another image, as a rebuild or a pull would.
    await docker(engine!, ['tag', 'local/node:20', tag]);
    assert.notEqual((await docker(engine!, ['image', 'inspect', '--format', '{{.Id}}', tag])).trim(), was.Image);

    await recreateContainer({
      engine: client,
      container: plain,
      mounts: [{ local_path: managedFolder, container_path: MANAGED_TARGET, read_only: true }],
      isManaged,
      operationId: 'op_carry_tag',
      minUptimeMs: 200,
    });
    const now = await client.containerInspect({ id: plain });
    assert.equal(now.State.Running, true);
    assert.equal(now.Image, was.Image);
    // The replacement is created from the image id, because the tag now names another image.
    assert.equal(now.Config.Image, was.Image);
    assert.deepEqual(was.Config.Healthcheck, { Test: ['NONE'] });
    assert.deepEqual(now.Config.Healthcheck, was.Config.Healthcheck);
    assert.equal(now.State.Health, undefined);
  });

  test('keeps a chosen MAC address', async () => {
    const apiVersion = await client.apiVersion();
    const perEndpoint = Number(apiVersion.split('.')[1]) >= 44;
    const macAddress = '02:42:ac:1f:0c:01';
    const chosen = uniqueName('mc-carry-mac');
    containers.push(chosen);
    // The docker CLI sends the address per network, which API 1.41 rejects, so the container is created through the API.
    await client.containerCreate({
      name: chosen,
      body: {
        Image: 'local/busybox:test',
        StopTimeout: 1,
        ...(perEndpoint ? {} : { MacAddress: macAddress }),
        HostConfig: { NetworkMode: network1, Init: true },
        NetworkingConfig: { EndpointsConfig: { [network1]: perEndpoint ? { MacAddress: macAddress } : {} } },
      },
    });
    await client.containerStart({ id: chosen });
    const was = await client.containerInspect({ id: chosen });
    assert.equal(was.NetworkSettings.Networks[network1]?.MacAddress, macAddress);

    await recreateContainer({ engine: client, container: chosen, mounts: [], isManaged, operationId: 'op_carry_mac', minUptimeMs: 200 });
    const now = await client.containerInspect({ id: chosen });
    assert.notEqual(now.Id, was.Id);
    assert.equal(now.Config.MacAddress, macAddress);
    assert.equal(now.NetworkSettings.Networks[network1]?.MacAddress, macAddress);
  });
});

describe('replacement spec', () => {
  const inspect = (overrides: { Config?: object; HostConfig?: object; Networks?: object }): ContainerInspect =>
    ({
      Id: 'abcdef012345' + '6'.repeat(52),
      Name: '/dev',
      Image: 'sha256:' + '1'.repeat(64),
      Created: '2024-01-01T00:00:00Z',
      State: { Status: 'running', Running: true, Paused: false, Restarting: false, ExitCode: 0, StartedAt: '', FinishedAt: '' },
      Config: { Hostname: 'dev-host', Image: 'app:1', ...overrides.Config },
      HostConfig: { NetworkMode: 'net1', ...overrides.HostConfig },
      Mounts: [],
      NetworkSettings: { Networks: overrides.Networks ?? {} },
    }) as ContainerInspect;
  const build = (container: ContainerInspect, apiVersion: string) =>
    buildReplacementSpec(container, [], { isManaged, apiVersion, image: 'app:1' });

  test('legacy links become the create form', () => {
    const spec = build(inspect({ HostConfig: { NetworkMode: 'bridge', Links: ['/db:/dev/database'] } }), '1.41');
    assert.deepEqual(spec.body.HostConfig?.Links, ['db:database']);
  });

  test('aliases the engine derived are left out', () => {
    const networks = {
      net1: { Aliases: ['web', 'abcdef012345', 'dev-host'] },
      net2: { Aliases: ['api', 'abcdef012345', 'dev-host'] },
    };
    const old = build(inspect({ Networks: networks }), '1.41');
    assert.deepEqual(old.body.NetworkingConfig?.EndpointsConfig, { net1: { Aliases: ['web'] } });
    assert.deepEqual(old.laterNetworks, [{ network: 'net2', endpointConfig: { Aliases: ['api'] } }]);
    // From API 1.45 inspect lists only the user's aliases, so an alias equal to the hostname is the user's own.
    const current = build(inspect({ Networks: networks }), '1.45');
    assert.deepEqual(current.body.NetworkingConfig?.EndpointsConfig, {
      net1: { Aliases: ['web', 'dev-host'] },
      net2: { Aliases: ['api', 'dev-host'] },
    });
    assert.deepEqual(current.laterNetworks, []);
  });

  test('DNS names and assigned addresses are not copied', () => {
    const networks = { net1: { Aliases: ['web'], DNSNames: ['dev', 'web', 'abcdef012345'], IPAddress: '10.1.0.2', MacAddress: '02:42:0a:01:00:02' } };
    const spec = build(inspect({ Networks: networks }), '1.45');
    assert.deepEqual(spec.body.NetworkingConfig?.EndpointsConfig, { net1: { Aliases: ['web'] } });
    assert.equal(spec.body.MacAddress, undefined);
  });

  test('MAC address placement per API version', () => {
    const container = inspect({ Config: { MacAddress: '02:00:00:00:00:01' }, Networks: { net1: { MacAddress: '02:00:00:00:00:01' } } });
    const old = build(container, '1.41');
    assert.equal(old.body.MacAddress, '02:00:00:00:00:01');
    assert.deepEqual(old.body.NetworkingConfig?.EndpointsConfig, { net1: {} });
    const current = build(container, '1.44');
    assert.equal(current.body.MacAddress, undefined);
    assert.deepEqual(current.body.NetworkingConfig?.EndpointsConfig, { net1: { MacAddress: '02:00:00:00:00:01' } });
  });

  test('hostname equal to the short id is not copied', () => {
    const spec = build(inspect({ Config: { Hostname: 'abcdef012345' } }), '1.45');
    assert.equal(spec.body.Hostname, undefined);
    assert.equal(build(inspect({}), '1.45').body.Hostname, 'dev-host');
  });
});
