import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, eventually, startHub, startReceiver, type Receiver, type TestHerald } from '../webhooks/helpers.js';
import { buildDashboard, launchBrowser } from './browser.js';

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), against a whole
 * Herald: the list, in order, on one server; screenshots go to docs/screenshots/.
 */
const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
let herald: TestHerald;
let receiver: Receiver;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await buildDashboard();
  receiver = await startReceiver();
  herald = await startHub({ webhooks: { breakerThreshold: 2, breakerCooldownMs: 200, breakerMaxCooldownMs: 400 } });
  browser = await launchBrowser();
  context = browser.context;
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
  await herald?.close();
  await receiver?.close();
});

describe('the dashboard', () => {
  it('loads with compressed, cached assets and an overview', async () => {
    const encodings: string[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('.js')) encodings.push(`${r.headers()['content-encoding']} ${r.headers()['cache-control']}`);
    });
    await page.goto(`${herald.url}/ui/`);
    await expect.poll(() => page.getByRole('heading', { name: 'Overview' }).count()).toBe(1);
    expect(encodings).toEqual(['br public, max-age=31536000, immutable']);
    await expect.poll(() => page.getByTestId('store-kind').textContent()).toBe('memory');
    await expect.poll(() => page.getByRole('row').filter({ hasText: herald.url }).count()).toBe(1);
  });

  it('shows a stream and its rate once events are published', async () => {
    let publishing = true;
    const loop = (async () => {
      while (publishing) {
        await herald.publish('orders', { at: Date.now() });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await expect.poll(() => page.locator('tr[data-stream="orders"]').count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(async () => Number(await page.getByTestId('rate-orders').textContent()), { timeout: 10_000 }).toBeGreaterThan(5);
      await page.screenshot({ path: `${SHOTS}overview.png`, fullPage: true });
    } finally {
      publishing = false;
      await loop;
    }
  });

  it('shows a live event arriving in the tail, with its payload', async () => {
    await page.getByRole('link', { name: 'orders' }).click();
    await expect.poll(() => page.getByTestId('tail-state').textContent()).toBe('live');
    const sent = await herald.publish('orders', { live: 'hello from the test' }, { 'ce-type': 'order.created', 'idempotency-key': 'live-1' });
    const seq = sent.json.seq as number;
    const row = page.locator(`#ev-${seq}`);
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    await row.click();
    await expect.poll(() => page.getByTestId('event-detail').textContent()).toContain('hello from the test');
    expect(await page.getByTestId('event-detail').textContent()).toContain('order.created');
    // Pause, publish, nothing arrives; resume, it does.
    await page.getByRole('button', { name: 'Pause' }).click();
    const during = (await herald.publish('orders', { during: 'pause' })).json.seq as number;
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.locator(`#ev-${during}`).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('listbox').press('End');
    await expect.poll(() => page.locator(`#ev-${during}`).count(), { timeout: 10_000 }).toBe(1);
    // Jump to an id.
    await page.getByLabel('Jump to seq or id').fill('live-1');
    await page.getByRole('button', { name: 'Jump' }).click();
    await expect.poll(() => page.locator(`#ev-${seq}[aria-selected="true"]`).count(), { timeout: 10_000 }).toBe(1);
    await page.screenshot({ path: `${SHOTS}stream.png`, fullPage: true });
  });

  it('creates a webhook to a local receiver and shows its attempts', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('Stream').fill('orders');
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByLabel(/Retry delays/).fill('50,50');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const secret = await page.getByTestId('secret').textContent();
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.getByTestId('secret').count()).toBe(0);
    await herald.publish('orders', { webhook: 1 });
    await receiver.waitFor(1);
    await expect.poll(() => page.getByTestId('attempts-table').textContent(), { timeout: 10_000 }).toContain('delivered');
    expect(await page.getByTestId('attempts-table').textContent()).toContain('200');
    // A test event goes out at once and is reported, not stored.
    await page.getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => page.getByTestId('test-result').textContent(), { timeout: 10_000 }).toMatch(/^Test event delivered: HTTP 200 in \d+ ms$/);
    expect(receiver.received.at(-1)!.headers['herald-type']).toBe('herald.test');
  });

  it('shows the breaker open and the dead letters when the receiver fails, and delivers them on redrive', async () => {
    receiver.behave(answer(500, 'down'));
    const before = receiver.received.length;
    await herald.publish('orders', { webhook: 2 });
    await herald.publish('orders', { webhook: 3 });
    await expect.poll(() => page.getByTestId('endpoint-state').textContent(), { timeout: 10_000 }).toMatch(/breaker (open|half-open)/);
    await page.screenshot({ path: `${SHOTS}webhooks-breaker.png`, fullPage: true });
    await expect.poll(() => page.getByTestId('dead-letters-table').locator('tbody tr').filter({ hasText: '500' }).count(), { timeout: 15_000 }).toBe(2);
    expect(receiver.received.length).toBeGreaterThan(before);
    await page.screenshot({ path: `${SHOTS}webhooks.png`, fullPage: true });

    receiver.behave(answer(200));
    const firstSeq = Number(await page.getByTestId('dead-letters-table').locator('tbody tr td').first().textContent());
    await page.getByRole('button', { name: `Redrive seq ${firstSeq}` }).click();
    await expect.poll(() => page.getByTestId('dead-letters-table').locator('tbody tr').filter({ hasText: '500' }).count(), { timeout: 15_000 }).toBe(1);
    await page.getByRole('button', { name: 'Redrive all' }).click();
    await expect.poll(() => page.getByTestId('dead-letters-table').textContent(), { timeout: 15_000 }).toContain('No dead letters');
    const delivered = (n: number): boolean => receiver.received.some((r) => r.at > 0 && JSON.parse(r.body.toString()).webhook === n);
    await eventually(() => delivered(2) && delivered(3), 10_000, 'redriven events delivered');
    await expect.poll(() => page.getByTestId('endpoint-state').textContent(), { timeout: 10_000 }).toBe('active');
  });

  it('shows event-bus streams with counts by status', async () => {
    await page.getByRole('link', { name: 'Event-bus streams' }).click();
    const row = page.getByTestId('eventbus-table').getByRole('row').filter({ hasText: 'orders' });
    await expect.poll(() => row.count()).toBe(1);
    const cells = await row.locator('td').allTextContents();
    // Nothing consumed the stream over the event-bus protocol: every event is unprocessed.
    expect(Number(cells[1])).toBeGreaterThan(0);
    expect(cells[2]).toBe(cells[1]);
    await page.screenshot({ path: `${SHOTS}eventbus.png`, fullPage: true });
  });

  it('labels every control and can be driven from the keyboard (accessibility tree)', async () => {
    for (const hash of ['#/', '#/stream/orders', '#/webhooks', '#/eventbus']) {
      await page.goto(`${herald.url}/ui/${hash}`);
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await page.waitForTimeout(300);
      const snapshot = await page.locator('body').ariaSnapshot();
      // No control without an accessible name: `- button` / `- textbox` / `- checkbox` with nothing after the role.
      expect(snapshot, hash).not.toMatch(/- (button|textbox|checkbox|link|listbox|combobox)\s*(\[[^\]]*\])?\s*$/m);
      expect(snapshot).toContain('navigation "Pages"');
    }
    // Keyboard: Tab reaches the navigation and Enter follows it.
    await page.goto(`${herald.url}/ui/#/`);
    await page.waitForTimeout(200);
    const reached: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.textContent ?? ''));
    }
    expect(reached).toContain('Webhooks');
    while ((await page.evaluate(() => document.activeElement?.textContent)) !== 'Webhooks') await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/webhooks');
    // The event list moves its selection with the arrow keys.
    await page.goto(`${herald.url}/ui/#/stream/orders`);
    await expect.poll(() => page.getByTestId('tail-state').textContent()).toBe('live');
    await expect.poll(() => page.getByRole('option').count()).toBeGreaterThan(1);
    await page.getByRole('listbox').focus();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => page.getByRole('listbox').getAttribute('aria-activedescendant')).toMatch(/^ev-\d+$/);
    expect(await page.getByTestId('event-detail').count()).toBe(1);
  });
});

describe('the dashboard with access tokens', () => {
  const TOKEN = 'dashboard-test-token-0123456789';
  let secured: TestHerald;
  beforeAll(async () => {
    secured = await startHub({ auth: { tokens: [{ name: 'ops', token: TOKEN, scopes: ['admin'] }] } });
  });
  afterAll(async () => {
    await secured?.close();
  });

  it('shows only the login until a valid token is given, then uses it for every call', async () => {
    await secured.request('/streams/secret/events', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
    const p = await context.newPage();
    await p.goto(`${secured.url}/ui/`);
    await expect.poll(() => p.getByLabel('Access token').count()).toBe(1);
    expect(await p.getByRole('navigation').count()).toBe(0);
    await p.screenshot({ path: `${SHOTS}login.png` });
    await p.getByLabel('Access token').fill('wrong-token-wrong-token');
    await p.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => p.getByRole('alert').textContent()).toContain('unauthorized');
    expect(await p.getByRole('navigation').count()).toBe(0);
    await p.getByLabel('Access token').fill(TOKEN);
    await p.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => p.locator('tr[data-stream="secret"]').count()).toBe(1);
    // The live tail authenticates too.
    await p.getByRole('link', { name: 'secret' }).click();
    await expect.poll(() => p.getByTestId('tail-state').textContent()).toBe('live');
    await expect.poll(() => p.locator('#ev-1').count()).toBe(1);
    await p.close();
  });
});
