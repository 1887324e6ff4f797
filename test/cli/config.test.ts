import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './helpers.js';

const dir = tempDir('herald-cli-config-');
afterAll(() => dir.cleanup());

describe('herald --help', () => {
  it('answers on every command and exits 0', async () => {
    const commands = [[], ['serve'], ['publish'], ['read'], ['streams'], ['config']];
    const results = await Promise.all(commands.map((c) => runCli([...c, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, `herald ${commands[i]!.join(' ')} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^Usage: herald/);
    });
    expect(results[1]!.stdout).toContain('--data <dir>');
    expect(results[2]!.stdout).toContain('--content-type <type>');
    expect(results[3]!.stdout).toContain('--follow');
  });

  it('exits 2 on a usage error', async () => {
    const r = await runCli(['read']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'stream'");
  });
});

describe('herald config', () => {
  it('prints the effective config as YAML: file < env < flags, tokens masked', async () => {
    const file = join(dir.path, 'herald.yaml');
    writeFileSync(file, 'http:\n  port: 1111\n  maxBatchEvents: 5\nauth:\n  tokens:\n    - name: ops\n      token: a-very-secret-token-value\n      scopes: [admin]\n');
    const r = await runCli(['config', '--config', file, '--port', '3333', '--set', 'retention.intervalMs=5'], {
      env: { HERALD_HTTP_PORT: '2222', HERALD_HTTP_BODY_LIMIT: '4096', HERALD_LOG_LEVEL: 'debug' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('a-very-secret-token-value');
    const config = parse(r.stdout) as Record<string, Record<string, unknown>>;
    expect(config.http).toMatchObject({ port: 3333, bodyLimit: 4096, maxBatchEvents: 5, host: '127.0.0.1', enabled: true });
    expect(config.auth).toEqual({ tokens: [{ name: 'ops', token: '***', scopes: ['admin'] }] });
    expect(config.retention).toEqual({ intervalMs: 5, default: {} });
    expect(config.log).toEqual({ level: 'debug', pretty: 'auto' });
    expect(config.store).toEqual({ type: 'lmdb', path: './herald-data', mapSizeGiB: 64, unmapAfterReadMiB: 64, inlineCommitKiB: 16, wal: true });
  });

  it('maps --memory and --data onto the store', async () => {
    const memory = parse((await runCli(['config', '--memory'])).stdout) as { store: unknown };
    expect(memory.store).toEqual({ type: 'memory', maxEventsPerStream: 100_000 });
    const data = parse((await runCli(['config', '--data', dir.path])).stdout) as { store: unknown };
    expect(data.store).toEqual({ type: 'lmdb', path: dir.path, mapSizeGiB: 64, unmapAfterReadMiB: 64, inlineCommitKiB: 16, wal: true });
  });

  it('reports a bad value with key, value, expectation and source, and exits 2', async () => {
    const r = await runCli(['config'], { env: { HERALD_HTTP_PORT: 'abc' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('config error: http.port: expected a whole number from 0 to 65535, got "abc" (from HERALD_HTTP_PORT)\n');
    const flag = await runCli(['config', '--port', '99999']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('config error: http.port: expected a whole number from 0 to 65535, got "99999" (from --port)\n');
  });

  it('serve refuses a non-loopback host without tokens and exits 2', async () => {
    const r = await runCli(['serve', '--memory', '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('herald: refusing to bind the HTTP API to 0.0.0.0');
  });
});
