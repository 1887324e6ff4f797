import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DOCS_COMMAND, renderConfigDocs, renderOptionsTable } from '../../src/config/docs.js';
import { configOptions } from '../../src/config/options.js';

const DOCS = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

describe('docs/configuration.md', () => {
  it('holds the options table generated from the schema', () => {
    const current = readFileSync(DOCS, 'utf8');
    const expected = renderConfigDocs(current);
    if (current !== expected) {
      expect.fail(`docs/configuration.md is out of date with src/config/schema.ts: run \`${DOCS_COMMAND}\` and commit the result`);
    }
  });

  it('lists every option with its env variable and default', () => {
    const table = renderOptionsTable();
    for (const option of configOptions()) {
      expect(table).toContain(`| \`${option.key}\` |`);
      expect(table).toContain(`\`${option.env}\``);
    }
    expect(table).toContain('| `http.port` | integer 0–65535 | `8000` | `HERALD_HTTP_PORT` | TCP port (0 picks a free one). |');
  });
});
