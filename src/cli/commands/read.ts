import { InvalidArgumentError, type Command } from 'commander';
import { addClientFlags, HeraldClient, HttpStatusError, UnreachableError, type ClientFlags } from '../client.js';
import { exitOnBrokenPipe, write } from '../output.js';

/** Most events the server returns per page. */
const PAGE = 1000;
const POLL_MIN_MS = 200;
const POLL_MAX_MS = 1000;

interface ReadFlags extends ClientFlags {
  from: number;
  limit?: number;
  follow?: boolean;
}

interface Page {
  events: { seq: number }[];
  next: number;
}

export function positiveInt(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} takes a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(value)}`);
    return n;
  };
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

/**
 * `herald read <stream>`: events as JSON lines from `--from` (a seq, default 1), up to `--limit`;
 * with `--follow`, keeps polling for new ones (200 ms, backing off to 1 s while idle) until
 * SIGINT. When following, a stream that does not exist yet and an unreachable server are
 * waited for.
 */
export function readCommand(program: Command): void {
  addClientFlags(
    program
      .command('read')
      .description('print events of a stream as JSON lines')
      .argument('<stream>', 'the stream to read')
      .option('--from <seq>', 'start at this seq (default: the first stored event)', positiveInt('--from', 1), 1)
      .option('-n, --limit <n>', 'print at most this many events', positiveInt('--limit', 1))
      .option('-f, --follow', 'keep waiting for new events until interrupted'),
  ).action(async (stream: string, flags: ReadFlags) => {
    exitOnBrokenPipe();
    const client = new HeraldClient(flags);
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let after = flags.from - 1;
    let remaining = flags.limit ?? Infinity;
    let idle = POLL_MIN_MS;
    let unreachable = false;
    try {
      while (remaining > 0 && !controller.signal.aborted) {
        const limit = Math.min(PAGE, remaining);
        let page: Page;
        try {
          ({ body: page } = await client.request<Page>('GET', `${HeraldClient.eventsPath(stream)}?after=${after}&limit=${limit}`, { signal: controller.signal }));
          unreachable = false;
        } catch (err) {
          if ((err as Error).name === 'AbortError') break;
          // Following outlives a stream that does not exist yet and a server that restarts.
          const waitable = (err instanceof HttpStatusError && err.code === 'stream_not_found') || err instanceof UnreachableError;
          if (!flags.follow || !waitable) throw err;
          if (err instanceof UnreachableError && !unreachable) process.stderr.write(`herald: ${err.message}; retrying\n`);
          unreachable = err instanceof UnreachableError;
          page = { events: [], next: after };
        }
        if (page.events.length > 0) {
          await write(process.stdout, page.events.map((e) => JSON.stringify(e) + '\n').join(''));
          remaining -= page.events.length;
          after = page.next;
          idle = POLL_MIN_MS;
          if (page.events.length === limit) continue;
        }
        if (!flags.follow) break;
        await sleep(idle, controller.signal);
        idle = Math.min(POLL_MAX_MS, idle * 2);
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
