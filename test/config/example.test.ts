import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configOptions } from '../../src/config/options.js';

const EXAMPLE = fileURLToPath(new URL('../../herald.example.yaml', import.meta.url));

describe('herald.example.yaml', () => {
  it('validates, and its values take effect', () => {
    const config = loadConfig({ file: EXAMPLE, env: {} });
    expect(config.store).toEqual({ type: 'lmdb', path: `${dirname(EXAMPLE)}/herald-data`, mapSizeGiB: 16, unmapAfterReadMiB: 64, inlineCommitKiB: 16, wal: true });
    expect(config.http.bodyLimit).toBe(2 * 1024 * 1024);
    expect(config.retention).toEqual({ intervalMs: 60_000, default: { maxAgeMs: 7 * 24 * 3600 * 1000 } });
    expect(config.log).toEqual({ level: 'info', pretty: 'auto' });
  });

  it('mentions every option (set or in a comment)', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    for (const option of configOptions()) {
      const name = option.path[option.path.length - 1]!;
      expect(text, `herald.example.yaml should document ${option.key}`).toMatch(new RegExp(`^\\s*#?\\s*${name}:`, 'm'));
    }
    for (const section of new Set(configOptions().map((o) => o.path[0]))) expect(text).toMatch(new RegExp(`^${section}:`, 'm'));
  });
});
