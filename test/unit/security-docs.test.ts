/** docs/security.md shows the Engine allow-list that the library exports, entry for entry. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { MONITOR_ENGINE_ENDPOINTS } from '../../lib/docker/index.js';
import { REPO_ROOT } from '../helpers/stack.js';

test('security doc lists every engine endpoint', async () => {
  const doc = await readFile(join(REPO_ROOT, 'docs', 'security.md'), 'utf8');
  const rows = doc.split('\n').filter((line) => /^\| `(GET|HEAD|POST|DELETE)` \| `\//.test(line));
  const documented = rows.map((line) => {
    const [, method = '', path = ''] = /^\| `(\w+)` \| `([^`]+)`/.exec(line) ?? [];
    return `${method} ${path}`;
  });
  const exported = MONITOR_ENGINE_ENDPOINTS.map((endpoint) => `${endpoint.method} ${endpoint.versioned ? '/v{version}' : ''}${endpoint.path}`);
  assert.deepEqual(documented, exported);
});
