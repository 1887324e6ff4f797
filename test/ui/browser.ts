import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
// @ts-expect-error: a plain ESM build script without types.
import { buildWeb } from '../../web/build.mjs';

const WEB = new URL('../../web/', import.meta.url).pathname;

/** Builds web/dist when it is missing or older than a source file (a fresh clone has none; esbuild takes well under a second). */
export async function buildDashboard(): Promise<void> {
  const built = `${WEB}dist/index.html`;
  if (existsSync(built)) {
    const at = statSync(built).mtimeMs;
    const sources = [...readdirSync(`${WEB}src`).map((f) => `${WEB}src/${f}`), `${WEB}index.html`, `${WEB}build.mjs`];
    if (sources.every((f) => statSync(f).mtimeMs <= at)) return;
  }
  await (buildWeb as (o: { quiet: boolean }) => Promise<unknown>)({ quiet: true });
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Debian's chromium with a fresh profile directory, removed on close. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-ui-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1280, height: 860 } });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
