/**
 * Writes the OpenAPI documents that the servers build in code to
 * docs/openapi.json (monitor) and docs/openapi-dev-proxy.json (proxy).
 * Run it with `npm run openapi`; a unit test fails while the files are stale.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDevProxyOpenApi } from '../servers/dev-proxy/openapi.js';
import { buildMonitorOpenApi } from '../servers/monitor/openapi.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The file text of each document: two-space JSON with a final line feed. */
export const OPENAPI_FILES: Record<string, () => unknown> = {
  'docs/openapi.json': buildMonitorOpenApi,
  'docs/openapi-dev-proxy.json': buildDevProxyOpenApi,
};

export const renderDocument = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, build] of Object.entries(OPENAPI_FILES)) {
    await writeFile(join(root, file), renderDocument(build()));
    console.log(`wrote ${file}`);
  }
}
