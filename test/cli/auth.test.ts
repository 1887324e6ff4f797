import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli, serve, stopServe, type Served } from './helpers.js';

/** Tokens from the environment, and the client commands' --token / HERALD_TOKEN. */
describe('herald serve with access tokens', () => {
  const secret = 'cli-test-token-0123456789';
  let served: Served | undefined;

  beforeAll(async () => {
    served = await serve(['--memory', '--port', '0'], {
      HERALD_AUTH_TOKENS: JSON.stringify([{ name: 'test', tokenEnv: 'CLI_TEST_TOKEN', scopes: ['admin'] }]),
      CLI_TEST_TOKEN: secret,
    });
  });
  afterAll(() => stopServe(served));

  it('logs no open-access warning and the memory store', () => {
    expect(served!.logs.some((l) => String(l.msg).includes('no access tokens'))).toBe(false);
    expect(served!.logs).toContainEqual(expect.objectContaining({ store: 'memory' }));
  });

  it('sends the token from --token or HERALD_TOKEN', async () => {
    const url = served!.url;
    const [without, withFlag] = await Promise.all([runCli(['publish', 'secure', '1', '--url', url]), runCli(['publish', 'secure', '2', '--url', url, '--token', secret])]);
    const withEnv = await runCli(['streams'], { env: { HERALD_URL: url, HERALD_TOKEN: secret } });
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/^herald: 401 unauthorized: /);
    expect(withFlag.code, withFlag.stderr).toBe(0);
    expect(JSON.parse(withFlag.stdout)).toMatchObject({ stream: 'secure', seq: 1 });
    expect(withEnv.code, withEnv.stderr).toBe(0);
    expect(jsonLines(withEnv.stdout)).toContainEqual(expect.objectContaining({ name: 'secure', count: 1 }));
  });
});
