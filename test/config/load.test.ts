import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from '../../src/config/load.js';
import { configOptions, envName } from '../../src/config/options.js';
import { closest, editDistance } from '../../src/config/suggest.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('herald-config-');
afterAll(() => dir.cleanup());

let n = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir.path, `c${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError `fn` throws. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the schema defaults with nothing set', () => {
    const config = loadConfig({ env: {} });
    expect(config.http).toMatchObject({ enabled: true, host: '127.0.0.1', port: 8000, bodyLimit: 1024 * 1024 });
    expect(config.store).toEqual({ type: 'lmdb', path: './herald-data', mapSizeGiB: 64, unmapAfterReadMiB: 64, inlineCommitKiB: 16, wal: true });
    expect(config.log.level).toBe('info');
    expect(config.auth.tokens).toEqual([]);
  });

  it('layers file < env < flags', () => {
    const path = file('http:\n  port: 1111\n  bodyLimit: 2048\n  maxBatchEvents: 7\nlog:\n  level: debug\n');
    const env = { HERALD_HTTP_PORT: '2222', HERALD_HTTP_BODY_LIMIT: '4096' };
    const config = loadConfig({ file: path, env, overrides: { http: { port: 3333 } } });
    expect(config.http.port).toBe(3333); // flag beats env and file
    expect(config.http.bodyLimit).toBe(4096); // env beats file
    expect(config.http.maxBatchEvents).toBe(7); // file beats default
    expect(config.log.level).toBe('debug');
    expect(config.http.host).toBe('127.0.0.1'); // default
  });

  it('reads JSON files too', () => {
    const config = loadConfig({ file: file('{"http": {"port": 1234}, "store": {"type": "memory"}}', 'json'), env: {} });
    expect(config.http.port).toBe(1234);
    expect(config.store).toEqual({ type: 'memory', maxEventsPerStream: 100_000 });
  });

  it('coerces env values to each option type', () => {
    const config = loadConfig({
      env: {
        HERALD_HTTP_ENABLED: 'false',
        HERALD_HTTP_INSECURE: '1',
        HERALD_HTTP_HOST: '0.0.0.0',
        HERALD_STORE_MAP_SIZE_GIB: '0.5',
        HERALD_RETENTION_DEFAULT_MAX_AGE_MS: '60000',
        HERALD_AUTH_TOKENS: '[{"token":"0123456789abcdef0123","scopes":["admin"]}]',
        HERALD_LOG_PRETTY: 'true',
        HERALD_HTTP_PORT: '', // empty counts as unset
      },
    });
    expect(config.http.enabled).toBe(false);
    expect(config.http.insecure).toBe(true);
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.http.port).toBe(8000);
    expect(config.store).toMatchObject({ type: 'lmdb', mapSizeGiB: 0.5 });
    expect(config.retention.default).toEqual({ maxAgeMs: 60000 });
    expect(config.auth.tokens).toEqual([{ token: '0123456789abcdef0123', scopes: ['admin'] }]);
    expect(config.log.pretty).toBe('true');
  });

  it('coerces string flag values like env values and names the flag', () => {
    expect(loadConfig({ env: {}, overrides: { http: { port: '0' }, 'retention.intervalMs': '5' } }).http.port).toBe(0);
    const err = configError(() => loadConfig({ env: {}, overrides: { http: { port: 'abc' } }, overrideSources: { 'http.port': '--port' } }));
    expect(err.message).toBe('config error: http.port: expected a whole number from 0 to 65535, got "abc" (from --port)');
  });

  it('reports env coercion failures with the variable name', () => {
    const err = configError(() => loadConfig({ env: { HERALD_HTTP_PORT: 'abc', HERALD_HTTP_ENABLED: 'yes', HERALD_AUTH_TOKENS: '[{' } }));
    expect(err.message).toContain('config error: http.port: expected a whole number from 0 to 65535, got "abc" (from HERALD_HTTP_PORT)');
    expect(err.message).toContain('config error: http.enabled: expected true or false (or 1 or 0), got "yes" (from HERALD_HTTP_ENABLED)');
    expect(err.message).toMatch(/config error: auth\.tokens: expected a list in JSON, got "\[\{" \(.*\) \(from HERALD_AUTH_TOKENS\)/);
    expect(err.issues.map((i) => i.key).sort()).toEqual(['auth.tokens', 'http.enabled', 'http.port']);
  });

  it('names key, value, expectation and source for values the schema rejects', () => {
    expect(configError(() => loadConfig({ env: { HERALD_HTTP_PORT: '70000' } })).message).toBe(
      'config error: http.port: expected a whole number from 0 to 65535, got "70000" (from HERALD_HTTP_PORT)',
    );
    const path = file('http:\n  port: 8000\n  bodyLimit: -5\nlog:\n  level: verbose\nretention:\n  intervalMs: 1.5\n');
    const err = configError(() => loadConfig({ file: path, env: {} }));
    expect(err.message).toContain(`config error: http.bodyLimit: expected a positive whole number, got -5 (in ${path} line 3)`);
    expect(err.message).toContain(`config error: log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "verbose" (in ${path} line 5)`);
    expect(err.message).toContain(`config error: retention.intervalMs: expected a whole number, 0 or more, got 1.5 (in ${path} line 7)`);
    expect(err.issues).toHaveLength(3);
  });

  it('reports problems inside token entries with their index', () => {
    const path = file('auth:\n  tokens:\n    - token: short\n      scopes: ["bad scope"]\n    - scopes: [admin]\n');
    const err = configError(() => loadConfig({ file: path, env: {} }));
    expect(err.message).toContain(`auth.tokens[0].token: expected a string of at least 16 characters, got "short" (in ${path} line 3)`);
    expect(err.message).toContain('auth.tokens[0].scopes[0]: a scope is admin, publish or read');
    expect(err.message).toContain('got "bad scope"');
    expect(err.message).toContain(`auth.tokens[1]: give exactly one of token and tokenEnv (in ${path} line 5)`);
  });

  it('rejects unknown keys and suggests the closest valid one', () => {
    const path = file('htpp:\n  port: 1\nhttp:\n  prot: 8000\n  body_limit: 10\n  frobnicate: true\n');
    const err = configError(() => loadConfig({ file: path, env: {} }));
    expect(err.message).toContain(`config error: htpp: unknown option; did you mean "http"? (in ${path} line 1)`);
    expect(err.message).toContain(`config error: http.prot: unknown option; did you mean "http.port"? (in ${path} line 4)`);
    expect(err.message).toContain(`config error: http.body_limit: unknown option; did you mean "http.bodyLimit"? (in ${path} line 5)`);
    expect(err.message).toContain('config error: http.frobnicate: unknown option; valid here: enabled, host, port, bodyLimit');
  });

  it('names the store type an option belongs to', () => {
    const err = configError(() => loadConfig({ file: file('store:\n  type: memory\n  path: ./x\n'), env: {} }));
    expect(err.message).toContain('config error: store.path: not an option of store.type "memory" (only of "lmdb")');
    const bad = configError(() => loadConfig({ env: { HERALD_STORE_TYPE: 'lmbd' } }));
    expect(bad.message).toBe('config error: store.type: expected one of "lmdb", "memory", "postgres", got "lmbd" (from HERALD_STORE_TYPE)');
  });

  it('infers or switches the store type across sources', () => {
    // A memory-only option implies the memory store.
    expect(loadConfig({ env: { HERALD_STORE_MAX_EVENTS_PER_STREAM: '5' } }).store).toEqual({ type: 'memory', maxEventsPerStream: 5 });
    // A path alone keeps the default lmdb store.
    expect(loadConfig({ env: { HERALD_STORE_PATH: '/tmp/x' } }).store).toEqual({ type: 'lmdb', path: '/tmp/x', mapSizeGiB: 64, unmapAfterReadMiB: 64, inlineCommitKiB: 16, wal: true });
    // A flag switching the type drops the file's options of the other type.
    const path = file('store:\n  type: lmdb\n  path: /tmp/data\n  mapSizeGiB: 2\n');
    expect(loadConfig({ file: path, env: {}, overrides: { store: { type: 'memory' } } }).store).toEqual({ type: 'memory', maxEventsPerStream: 100_000 });
    // The same type keeps them.
    expect(loadConfig({ file: path, env: {}, overrides: { store: { type: 'lmdb', path: '/tmp/other' } } }).store).toEqual({ type: 'lmdb', path: '/tmp/other', mapSizeGiB: 2, unmapAfterReadMiB: 64, inlineCommitKiB: 16, wal: true });
  });

  it('resolves a relative store.path in a file against the file directory', () => {
    const config = loadConfig({ file: file('store:\n  path: ./data\n'), env: {} });
    expect(config.store).toMatchObject({ path: join(dir.path, 'data') });
  });

  it('accepts pretty: true written as a YAML boolean', () => {
    expect(loadConfig({ file: file('log:\n  pretty: false\n'), env: {} }).log.pretty).toBe('false');
  });

  it('reports unreadable and unparsable files', () => {
    expect(configError(() => loadConfig({ file: join(dir.path, 'absent.yaml'), env: {} })).message).toBe(
      `config error: cannot read config file ${join(dir.path, 'absent.yaml')}: no such file`,
    );
    const bad = file('http:\n  port: [1\n');
    expect(configError(() => loadConfig({ file: bad, env: {} })).message).toMatch(new RegExp(`^config error: cannot parse ${bad} \\(line \\d+, column \\d+\\)`));
    expect(configError(() => loadConfig({ file: file('- 1\n- 2\n'), env: {} })).message).toContain('must hold a mapping of options');
    expect(loadConfig({ file: file(''), env: {} }).http.port).toBe(8000);
  });

  it('requires the variables tokens are read from', () => {
    const path = file('auth:\n  tokens:\n    - tokenEnv: MY_TOKEN\n      scopes: [admin]\n');
    expect(configError(() => loadConfig({ file: path, env: {} })).message).toBe(
      `config error: auth.tokens[0].tokenEnv: the environment variable MY_TOKEN is not set (or empty) (in ${path} line 3)`,
    );
    expect(loadConfig({ file: path, env: { MY_TOKEN: 'x'.repeat(20) } }).auth.tokens[0]).toEqual({ tokenEnv: 'MY_TOKEN', scopes: ['admin'] });
  });

  it('warns about unknown HERALD_ variables with a suggestion', () => {
    const warnings: string[] = [];
    loadConfig({ env: { HERALD_HTTP_PROT: '1', HERALD_URL: 'http://x', HERALD_TOKEN: 't' }, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual(['HERALD_HTTP_PROT is not a Herald option and is ignored; did you mean HERALD_HTTP_PORT?']);
  });

  it('masks token values for printing', () => {
    const config = loadConfig({ env: { HERALD_AUTH_TOKENS: '[{"token":"0123456789abcdef0123","scopes":["admin"]},{"tokenEnv":"T","scopes":["read"]}]', T: 'y'.repeat(16) } });
    expect(redactConfig(config).auth.tokens).toEqual([{ token: '***', scopes: ['admin'] }, { tokenEnv: 'T', scopes: ['read'] }]);
    expect(config.auth.tokens[0]!.token).toBe('0123456789abcdef0123');
  });

  it('masks passwords in database URLs and webhook secrets for printing', () => {
    const config = loadConfig({ env: {}, overrides: { store: { type: 'postgres', url: 'postgres://herald:s3cret@db:5432/herald' }, eventpiper: { database: 'postgres://u:p%40ss@127.0.0.1/x' } } });
    const shown = redactConfig(config);
    expect(shown.store).toMatchObject({ type: 'postgres', url: 'postgres://herald:***@db:5432/herald' });
    expect(shown.eventpiper.database).toBe('postgres://u:***@127.0.0.1/x');
    expect(redactConfig(loadConfig({ env: {}, overrides: { eventpiper: { database: 'postgres://127.0.0.1/x' } } })).eventpiper.database).toBe('postgres://127.0.0.1/x');
  });
});

describe('options derived from the schema', () => {
  it('gives every leaf a HERALD_ variable in SCREAMING_SNAKE_CASE', () => {
    const env = Object.fromEntries(configOptions().map((o) => [o.key, o.env]));
    expect(env).toMatchObject({
      'http.port': 'HERALD_HTTP_PORT',
      'http.bodyLimit': 'HERALD_HTTP_BODY_LIMIT',
      'http.createStreamsOnPublish': 'HERALD_HTTP_CREATE_STREAMS_ON_PUBLISH',
      'store.type': 'HERALD_STORE_TYPE',
      'store.path': 'HERALD_STORE_PATH',
      'store.mapSizeGiB': 'HERALD_STORE_MAP_SIZE_GIB',
      'log.level': 'HERALD_LOG_LEVEL',
      'retention.default.maxAgeMs': 'HERALD_RETENTION_DEFAULT_MAX_AGE_MS',
      'auth.tokens': 'HERALD_AUTH_TOKENS',
    });
    expect(envName(['http', 'someURLPath'])).toBe('HERALD_HTTP_SOME_URL_PATH');
    for (const option of configOptions()) expect(option.description, option.key).not.toBe('');
  });

  it('suggests only close names', () => {
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('htpp', ['store', 'http', 'auth'])).toBe('http');
    expect(closest('BODY_LIMIT', ['bodyLimit', 'port'])).toBe('bodyLimit');
    expect(closest('zzz', ['store', 'http', 'auth'])).toBeUndefined();
  });
});
