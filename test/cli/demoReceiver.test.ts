import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './helpers.js';

describe('herald demo-receiver', () => {
  it('answers every request 200 "Thanks!" and logs content, X-Wsq-Id and length', async () => {
    const child = spawnCli(['demo-receiver', '0']);
    const lines: Array<Record<string, unknown>> = [];
    let buffered = '';
    const next = (predicate: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no such log line; got ${JSON.stringify(lines)}`)), 15_000);
        const check = (): void => {
          const found = lines.find(predicate);
          if (found) {
            clearTimeout(timer);
            child.stdout!.off('data', check);
            resolve(found);
          }
        };
        child.stdout!.on('data', check);
        check();
      });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
        buffered = buffered.slice(nl + 1);
      }
    });
    try {
      const { url } = (await next((l) => typeof l.url === 'string')) as { url: string };
      const res = await fetch(`${url}/any/path`, { method: 'PATCH', body: 'payload', headers: { 'x-wsq-id': 'abc' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toBe('Thanks!');
      expect(await next((l) => l.msg === 'got event')).toMatchObject({ content: 'payload', id: 'abc', len: 7 });
      await fetch(url);
      expect(await next((l) => l.msg === 'got event' && l.id === '')).toMatchObject({ content: '', len: -1 });
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses a bad port with a usage error', async () => {
    const result = await runCli(['demo-receiver', 'eighty']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('port must be a whole number');
  });
});
