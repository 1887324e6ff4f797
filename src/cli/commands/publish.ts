import { fstatSync, readFileSync } from 'node:fs';
import { encodeCeHeader } from '../../core/ceHeader.js';
import type { Command } from 'commander';
import { addClientFlags, HeraldClient, type ClientFlags } from '../client.js';
import { CliError, EXIT_USAGE } from '../errors.js';
import { formatCount } from '../output.js';
import { Progress } from '../progress.js';
import { positiveInt } from './read.js';

interface PublishFlags extends ClientFlags {
  type?: string;
  id?: string;
  subject?: string;
  contentType?: string;
  file?: string;
  batchSize: number;
}

/** A batch answer (see protocols/http/render.ts `batchBody`). */
interface BatchAnswer {
  stream: string;
  count: number;
  stored: number;
  firstSeq: number | null;
  lastSeq: number | null;
  ids: string[];
  duplicates?: unknown[];
}

/** Keeps batches well under the default 1 MiB body limit (http.bodyLimit). */
const MAX_BATCH_BYTES = 512 * 1024;
const NEWLINE = 10;

/** `{"a":1}` → application/json; anything else is sent as UTF-8 text. */
function guessContentType(payload: string): string {
  try {
    JSON.parse(payload);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}

function eventHeaders(flags: PublishFlags): Record<string, string> {
  const headers: Record<string, string> = {};
  // CloudEvents header values are percent-encoded on the wire (a subject may hold a '%').
  if (flags.type !== undefined) headers['ce-type'] = encodeCeHeader(flags.type);
  if (flags.subject !== undefined) headers['ce-subject'] = encodeCeHeader(flags.subject);
  return headers;
}

export function publishCommand(program: Command): void {
  addClientFlags(
    program
      .command('publish')
      .description('publish one event, or NDJSON from stdin (one JSON payload per line) in batches')
      .argument('<stream>', 'the stream to publish to')
      .argument('[payload]', 'the event payload; without it, NDJSON lines are read from stdin')
      .option('--type <type>', 'event type (default "message")')
      .option('--id <id>', 'event id, which makes retries safe (Idempotency-Key); with stdin, events get <id>:<batch>:<index>')
      .option('--subject <subject>', 'event subject (routing key)')
      .option('--content-type <type>', 'payload media type (default: application/json when the payload parses as JSON, else text/plain; application/octet-stream for --file)')
      .option('--file <path>', 'publish the bytes of a file as one event, unchanged (binary allowed)')
      .option('--batch-size <n>', 'lines per request when reading stdin', positiveInt('--batch-size', 1), 1000)
      .addHelpText('after', '\nExamples:\n  herald publish orders \'{"id":42}\' --type order.created\n  herald publish orders < orders.ndjson\n  herald publish scans --file scan.png --content-type image/png'),
  ).action(async (stream: string, payload: string | undefined, flags: PublishFlags) => {
    const client = new HeraldClient(flags);
    if (payload !== undefined && flags.file !== undefined) throw new CliError('give a payload argument or --file, not both', EXIT_USAGE);
    if (payload !== undefined || flags.file !== undefined) {
      const bytes = flags.file === undefined ? payload! : readPayloadFile(flags.file);
      const contentType = flags.contentType ?? (flags.file === undefined ? guessContentType(payload!) : 'application/octet-stream');
      const headers: Record<string, string> = { 'content-type': contentType, ...eventHeaders(flags) };
      if (flags.id !== undefined) headers['idempotency-key'] = flags.id;
      const { body } = await client.request<unknown>('POST', HeraldClient.eventsPath(stream), { headers, body: bytes });
      process.stdout.write(JSON.stringify(body) + '\n');
      return;
    }
    if (flags.contentType !== undefined) throw new CliError('--content-type applies to a payload argument; NDJSON lines are stored as application/json', EXIT_USAGE);
    if (process.stdin.isTTY) process.stderr.write('reading NDJSON events from stdin, one per line (Ctrl-D to end)\n');
    await publishStdin(client, stream, flags);
  });
}

function readPayloadFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read --file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT_USAGE);
  }
}

async function publishStdin(client: HeraldClient, stream: string, flags: PublishFlags): Promise<void> {
  const started = performance.now();
  let totalBytes: number | undefined;
  try {
    const stat = fstatSync(0);
    if (stat.isFile()) totalBytes = stat.size;
  } catch {
    // not a file: no total, no bar
  }
  const progress = process.stderr.isTTY ? new Progress(process.stderr, totalBytes) : undefined;
  // CloudEvents batch when every event needs a type or subject (NDJSON carries payloads only).
  const cloudEvents = flags.type !== undefined || flags.subject !== undefined;
  const sum = { count: 0, stored: 0, duplicates: 0, firstSeq: null as number | null, lastSeq: null as number | null };
  let bytesSent = 0;
  let bytesRead = 0;
  let lineNo = 0;
  let batchNo = 0;
  let lines: Buffer[] = [];
  let firstLine = 1;
  let batchBytes = 0;
  let inFlight: Promise<void> | undefined;

  const send = async (body: Buffer, range: string, key: string | undefined): Promise<void> => {
    const headers: Record<string, string> = { 'content-type': cloudEvents ? 'application/cloudevents-batch+json' : 'application/x-ndjson' };
    if (key !== undefined) headers['idempotency-key'] = key;
    let answer: BatchAnswer;
    try {
      ({ body: answer } = await client.request<BatchAnswer>('POST', HeraldClient.eventsPath(stream), { headers, body }));
    } catch (err) {
      const stored = sum.stored > 0 ? `; ${formatCount(sum.stored)} events before it were stored` : '';
      throw new CliError(`publishing ${range} failed: ${(err as Error).message}${stored}`);
    }
    sum.count += answer.count;
    sum.stored += answer.stored;
    sum.duplicates += answer.duplicates?.length ?? 0;
    sum.firstSeq ??= answer.firstSeq;
    if (answer.lastSeq !== null) sum.lastSeq = answer.lastSeq;
    bytesSent += body.length;
    progress?.update(bytesSent, sum.count);
  };

  const flush = async (): Promise<void> => {
    if (lines.length === 0) return;
    const batch = lines;
    const range = `lines ${firstLine}–${lineNo}`;
    let body: Buffer;
    if (cloudEvents) {
      const events = batch.map((line, i) => {
        let data: unknown;
        try {
          data = JSON.parse(line.toString('utf8'));
        } catch (err) {
          throw new CliError(`line ${firstLine + i} is not valid JSON: ${(err as Error).message}`);
        }
        return { ...(flags.type !== undefined ? { type: flags.type } : {}), ...(flags.subject !== undefined ? { subject: flags.subject } : {}), datacontenttype: 'application/json', data };
      });
      body = Buffer.from(JSON.stringify(events));
    } else {
      body = Buffer.concat(batch.flatMap((line) => [line, Buffer.of(NEWLINE)]));
    }
    const key = flags.id !== undefined ? `${flags.id}:${batchNo}` : undefined;
    batchNo++;
    lines = [];
    batchBytes = 0;
    firstLine = lineNo + 1;
    // One request in flight while the next batch is read: order is kept, reading overlaps sending.
    await inFlight;
    inFlight = send(body, range, key);
    inFlight.catch(() => {}); // observed by the next await
  };

  const addLine = async (line: Buffer): Promise<void> => {
    lineNo++;
    let blank = true;
    for (const c of line) if (c !== 32 && c !== 9 && c !== 13) { blank = false; break; }
    if (blank) {
      if (lines.length === 0) firstLine = lineNo + 1;
      return;
    }
    lines.push(line);
    batchBytes += line.length + 1;
    if (lines.length >= flags.batchSize || batchBytes >= MAX_BATCH_BYTES) await flush();
  };

  let carry: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    bytesRead += chunk.length;
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      // A copy, so a batch does not pin every stdin chunk it touched.
      await addLine(carry.length > 0 ? Buffer.concat([...carry, piece]) : Buffer.from(piece));
      carry = [];
      start = nl + 1;
    }
    if (start < chunk.length) carry.push(Buffer.from(chunk.subarray(start)));
  }
  if (carry.length > 0) await addLine(Buffer.concat(carry));
  await flush();
  await inFlight;
  progress?.done();

  const seconds = (performance.now() - started) / 1000;
  const rate = sum.count / Math.max(seconds, 1e-6);
  const dupes = sum.duplicates > 0 ? ` (${formatCount(sum.duplicates)} already stored, ignored)` : '';
  process.stderr.write(`published ${formatCount(sum.count)} events to ${stream} in ${seconds.toFixed(2)} s (${formatCount(rate)} events/s)${dupes}\n`);
  process.stdout.write(JSON.stringify({ stream, ...sum, bytes: bytesRead, seconds: Number(seconds.toFixed(3)), eventsPerSecond: Math.round(rate) }) + '\n');
}
