import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Server } from '../http/helpers.js';
import { launchBrowser } from '../ui/browser.js';

/**
 * A real browser on a page of another origin (another port of 127.0.0.1): with the page's
 * origin in `http.cors.origins`, its EventSource follows a Herald stream and its fetch publishes
 * (a JSON POST, so the browser sends a preflight first); without it, the browser refuses both.
 */
let withCors: Server;
let withoutCors: Server;
let pages: HttpServer;
let pageOrigin: string;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

const page = (herald: string): string => `<!doctype html><meta charset="utf-8"><title>cross-origin</title><script>
  window.got = []; window.errors = 0; window.posted = undefined;
  const es = new EventSource('${herald}/streams/xo/sse?after=0');
  es.onerror = () => window.errors++;
  es.addEventListener('tick', (e) => window.got.push(JSON.parse(e.data).n));
  window.publish = (n) => fetch('${herald}/streams/xo/events', { method: 'POST', headers: { 'content-type': 'application/json', 'ce-type': 'tick' }, body: JSON.stringify({ n }) })
    .then((r) => r.json().then((body) => (window.posted = { status: r.status, seq: body.seq })), (err) => (window.posted = { error: String(err) }));
</script>`;

beforeAll(async () => {
  pages = createServer((req, res) => {
    const target = req.url === '/with' ? withCors.url : withoutCors.url;
    res.writeHead(200, { 'content-type': 'text/html' }).end(page(target));
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
  pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  withCors = await startServer({ config: { http: { cors: { origins: [pageOrigin] } } } });
  withoutCors = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await withCors?.close();
  await withoutCors?.close();
  await new Promise((r) => pages?.close(r));
});

type PageState = { got: number[]; errors: number; posted?: { status?: number; seq?: number; error?: string } };
const state = (p: import('playwright-core').Page): Promise<PageState> =>
  p.evaluate(() => {
    const w = window as unknown as PageState;
    return { got: w.got, errors: w.errors, ...(w.posted ? { posted: w.posted } : {}) };
  });

describe('a page of another origin in chromium', () => {
  it('follows SSE and publishes when its origin is allowed', async () => {
    const p = await browser.context.newPage();
    await p.goto(`${pageOrigin}/with`);
    await withCors.request('/streams/xo/events', { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json', 'ce-type': 'tick' } });
    await expect.poll(async () => (await state(p)).got, { timeout: 10_000 }).toEqual([1]);
    await p.evaluate(() => (window as unknown as { publish(n: number): Promise<void> }).publish(2));
    expect((await state(p)).posted).toEqual({ status: 201, seq: 2 });
    await expect.poll(async () => (await state(p)).got, { timeout: 10_000 }).toEqual([1, 2]);
    await p.close();
  });

  it('is refused by the browser when CORS is off', async () => {
    const p = await browser.context.newPage();
    await p.goto(`${pageOrigin}/without`);
    await withoutCors.request('/streams/xo/events', { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json', 'ce-type': 'tick' } });
    await expect.poll(async () => (await state(p)).errors, { timeout: 10_000 }).toBeGreaterThan(0);
    await p.evaluate(() => (window as unknown as { publish(n: number): Promise<void> }).publish(2));
    const s = await state(p);
    expect(s.got).toEqual([]);
    expect(s.posted?.error).toMatch(/TypeError/);
    // The preflight failed, so the POST itself never reached Herald.
    expect((await withoutCors.hub.getStream('xo'))!.count).toBe(1);
    await p.close();
  });
});
