import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Server } from '../http/helpers.js';
import { launchBrowser } from '../ui/browser.js';
import { liveSocketCutter } from './stream.js';

/**
 * A real browser (Debian's chromium through playwright-core): a page's EventSource follows a
 * stream, is cut off by the server twice, resumes by itself with Last-Event-ID, and ends with
 * every event exactly once, in order.
 */
let server: Server;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let cut: () => number;

beforeAll(async () => {
  server = await startServer({ config: { live: { retryMs: 100 } } });
  cut = liveSocketCutter(server.listener.server);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const PAGE = `<!doctype html><meta charset="utf-8"><title>live</title><script>
  window.got = []; window.opens = 0;
  const es = new EventSource('/streams/browser/sse?after=0');
  es.onopen = () => window.opens++;
  es.addEventListener('tick', (e) => window.got.push([e.lastEventId, JSON.parse(e.data).n]));
</script>`;

describe('EventSource in chromium', () => {
  it('resumes after the server cuts it off and ends with every event once, in order', async () => {
    const page = await browser.context.newPage();
    // The page is served at Herald's origin, so its EventSource is same-origin.
    await page.route(`${server.url}/page`, (route) => route.fulfill({ body: PAGE, contentType: 'text/html' }));
    await page.goto(`${server.url}/page`);
    let n = 0;
    const publish = async (count: number) => {
      for (let i = 0; i < count; i++) {
        n++;
        await server.request('/streams/browser/events', { method: 'POST', body: JSON.stringify({ n }), headers: { 'content-type': 'application/json', 'ce-type': 'tick' } });
      }
    };
    await publish(5);
    await expect.poll(() => page.evaluate(() => (window as unknown as { got: unknown[] }).got.length), { timeout: 10_000 }).toBe(5);
    for (let round = 0; round < 2; round++) {
      expect(cut()).toBeGreaterThan(0);
      await publish(5);
      // Published while it was cut off: the browser gets them by resuming.
      await expect.poll(() => page.evaluate(() => (window as unknown as { got: unknown[] }).got.length), { timeout: 15_000 }).toBe(n);
    }
    await publish(3);
    await expect.poll(() => page.evaluate(() => (window as unknown as { got: unknown[] }).got.length), { timeout: 10_000 }).toBe(18);
    const { got, opens } = await page.evaluate(() => {
      const w = window as unknown as { got: Array<[string, number]>; opens: number };
      return { got: w.got, opens: w.opens };
    });
    expect(got).toEqual(Array.from({ length: 18 }, (_, i) => [String(i + 1), i + 1]));
    expect(opens).toBeGreaterThanOrEqual(3);
    await page.close();
  });
});
