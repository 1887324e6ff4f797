/** `npm run docs:config`: rewrites the generated options tables in docs/configuration.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './docs.js';

const CONFIG_DOCS_PATH = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

const current = readFileSync(CONFIG_DOCS_PATH, 'utf8');
const next = renderConfigDocs(current);
if (next === current) {
  process.stdout.write(`${CONFIG_DOCS_PATH} is up to date\n`);
} else {
  writeFileSync(CONFIG_DOCS_PATH, next);
  process.stdout.write(`updated ${CONFIG_DOCS_PATH}\n`);
}
