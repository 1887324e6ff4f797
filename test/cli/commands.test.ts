import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { jsonLines, runCli, serve, spawnCli, stopServe, type Served } from './helpers.js';

/** serve, publish, read, streams against one real `herald serve` on an LMDB temp dir. */
describe('herald CLI against a running server', () => {
  const dir = tempDir('herald-cli-');
  let served: Served | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    served = await serve(['--data', dir.path, '--port', '0']);
    env = { HERALD_URL: served.url };
  });
  afterAll(async () => {
    await stopServe(served);
    dir.cleanup();
  });

  it('serve binds loopback, answers /health and logs its store and the no-token warning', async () => {
    expect(served!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${served!.url}/health`);
    expect(health.status).toBe(200);
    expect(served!.logs).toContainEqual(expect.objectContaining({ store: 'lmdb', path: dir.path, msg: `lmdb store at ${dir.path}` }));
    expect(served!.logs).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining('no access tokens configured') }));
  });

  it('publish sends one event with type, subject and id', async () => {
    const r = await runCli(['publish', 'cli', '{"hello":"world"}', '--type', 'greeting', '--subject', 'u1', '--id', 'evt-1'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ id: 'evt-1', stream: 'cli', seq: 1 });
    const page = (await (await fetch(`${served!.url}/streams/cli/events?after=0&limit=1`)).json()) as { events: Record<string, unknown>[] };
    expect(page.events[0]).toMatchObject({ seq: 1, id: 'evt-1', type: 'greeting', subject: 'u1', contentType: 'application/json', data: { hello: 'world' } });
  });

  it('publish --file sends the bytes of a file unchanged (binary, octet-stream unless told), and encodes a subject holding %', async () => {
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
    const file = `${dir.path}/../payload-${process.pid}.bin`;
    const { writeFileSync, rmSync } = await import('node:fs');
    writeFileSync(file, bytes);
    try {
      const r = await runCli(['publish', 'cli-file', '--file', file, '--subject', '50%off', '--type', 'blob.stored'], { env });
      expect(r.code, r.stderr).toBe(0);
      const page = (await (await fetch(`${served!.url}/streams/cli-file/events?after=0`)).json()) as { events: Array<Record<string, unknown>> };
      expect(page.events[0]).toMatchObject({ subject: '50%off', type: 'blob.stored', contentType: 'application/octet-stream' });
      expect(Buffer.from(page.events[0]!.data_base64 as string, 'base64')).toEqual(bytes);
      const both = await runCli(['publish', 'cli-file', 'x', '--file', file], { env });
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('not both');
      const missing = await runCli(['publish', 'cli-file', '--file', `${file}.absent`], { env });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('ENOENT');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('publish reads NDJSON from stdin in batches and prints a summary', async () => {
    const input = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ n: i + 1 })).join('\n') + '\n\n';
    const r = await runCli(['publish', 'cli', '--batch-size', '1000'], { env, input });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^published 2,500 events to cli in \d+\.\d\d s \([\d,]+ events\/s\)\n$/);
    expect(JSON.parse(r.stdout)).toMatchObject({ stream: 'cli', count: 2500, stored: 2500, duplicates: 0, firstSeq: 2, lastSeq: 2501 });
  });

  it('read --from prints events as JSON lines from that seq', async () => {
    const [r, all] = await Promise.all([runCli(['read', 'cli', '--from', '2', '--limit', '3'], { env }), runCli(['read', 'cli', '--from', '1'], { env })]);
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // Across pages, to the end.
    const seqs = jsonLines(all.stdout).map((e) => e.seq);
    expect(seqs).toHaveLength(2501);
    expect(seqs.at(-1)).toBe(2501);
  });

  it('read --follow prints new events as they come, until SIGINT', async () => {
    const child = spawnCli(['read', 'follow', '--follow'], env);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The stream does not exist yet: read waits for it.
    await new Promise((r) => setTimeout(r, 1200));
    const posted = await fetch(`${served!.url}/streams/follow/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"late":true}' });
    expect(posted.status).toBe(201);
    const deadline = Date.now() + 10_000;
    while (!out.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(jsonLines(out)).toMatchObject([{ stream: 'follow', seq: 1, data: { late: true } }]);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('streams lists streams as JSON lines when not on a terminal', async () => {
    const r = await runCli(['streams'], { env });
    expect(r.code, r.stderr).toBe(0);
    const streams = jsonLines(r.stdout);
    expect(streams).toContainEqual(expect.objectContaining({ name: 'cli', count: 2501, firstSeq: 1, lastSeq: 2501 }));
  });

  it('fails with the server message on an error answer', async () => {
    const [bad, badLine, missing] = await Promise.all([
      runCli(['publish', 'bad name!', 'x'], { env }),
      runCli(['publish', 'cli-bad'], { env, input: '{"ok":1}\nnot json\n' }),
      runCli(['read', 'absent'], { env }),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^herald: 400 invalid_stream_name: /);
    expect(badLine.code).toBe(1);
    expect(badLine.stderr).toContain('herald: publishing lines 1–2 failed: 400 invalid_json: line 2 is not valid JSON');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^herald: 404 stream_not_found: /);
  });

  it('fails clearly when the server cannot be reached', async () => {
    const port = await closedPort();
    const r = await runCli(['streams', '--url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`herald: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n`);
  });
});

/** A port nothing listens on (bound once, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
