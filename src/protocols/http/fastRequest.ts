import type { IncomingMessage } from 'node:http';
import { isValidStreamName } from '../../core/names.js';

/**
 * Recognizes, in raw bytes off a socket, the one request the socket fast path serves: a single
 * event POSTed to `/streams/<name>/events` (fastpath.ts). It is a recognizer, not an HTTP
 * parser: anything it is not certain about is `other`, and node:http parses the connection from
 * that request's first byte on. So it never has to agree with node on a hard case, only to
 * accept nothing that node would read differently. It accepts:
 *
 * - the request line `POST /streams/<name>/events HTTP/1.1`, the name valid and plain (the name
 *   rules exclude `/`, `%`, `?`, so no query and nothing to decode);
 * - header lines `name: value`, the name a token, the value printable ASCII (tabs allowed),
 *   each name at most once;
 * - `Host` present (HTTP/1.1 requires it, node answers 400 without it);
 * - `Content-Length` present, digits only, within the body limit (past it node and fastify
 *   answer 413), and no `Transfer-Encoding`, `Expect` or `Upgrade`;
 * - `Connection` absent, `keep-alive` or `close`;
 * - a Content-Type from FAST_TYPES, or none with a non-empty body.
 *
 * streamOf takes the same publishes from node's parse, on connections node:http has.
 */

export interface FastRequestLimits {
  /** The largest request head (request line and headers) taken, in bytes. */
  maxHeadBytes: number;
  /** The body limit: a longer Content-Length is left to fastify's 413. */
  bodyLimit: number;
}

export type FastRequest =
  /** More bytes are needed to decide: `need` in all, once the head says how many (else 0). */
  | { kind: 'partial'; need: number }
  /** Not a request the fast path takes: node:http gets the connection from here on. */
  | { kind: 'other' }
  | {
      kind: 'publish';
      stream: string;
      /** Header names in lower case, as node gives them. */
      headers: Record<string, string>;
      /** Where the body starts and the request ends in the buffer. */
      bodyStart: number;
      end: number;
      /** The client asked to close the connection after this answer. */
      close: boolean;
    };

/**
 * Exact Content-Type values the fast path takes: common, valid, single-event types. Matching
 * exact strings keeps the media-type grammar (what fastify answers 415) out of the fast path.
 */
export const FAST_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
  'application/json; charset=UTF-8',
  'application/octet-stream',
  'text/plain',
  'text/plain; charset=utf-8',
  'text/plain;charset=utf-8',
]);

const PARTIAL: FastRequest = { kind: 'partial', need: 0 };
const OTHER: FastRequest = { kind: 'other' };
const STREAMS = '/streams/';
const EVENTS = '/events';
const PREFIX = `POST ${STREAMS}`;
const SUFFIX = `${EVENTS} HTTP/1.1`;
/** `name: value` with optional whitespace around the value; no CR, LF or non-ASCII anywhere. */
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\x20-\x7e\t]*?)[ \t]*$/;
const DIGITS = /^[0-9]{1,15}$/;
/** Headers that change how the request is framed or answered: node:http handles them. */
const HAND_OFF_HEADERS = new Set(['transfer-encoding', 'expect', 'upgrade']);

/** Classifies the request at the start of `buf`. */
export function recognizeRequest(buf: Buffer, limits: FastRequestLimits): FastRequest {
  // Decide on the first bytes alone where possible: most requests that are not ours are GETs.
  const early = Math.min(buf.length, PREFIX.length);
  if (buf.toString('latin1', 0, early) !== PREFIX.slice(0, early)) return OTHER;
  const headEnd = buf.indexOf('\r\n\r\n', 0, 'latin1');
  // The head's size counts its final CRLF CRLF. Unterminated, it is at least one byte longer
  // than the buffer (the terminator may have begun in its last 3 bytes), so the two agree.
  if (headEnd < 0) return buf.length >= limits.maxHeadBytes ? OTHER : PARTIAL;
  if (headEnd + 4 > limits.maxHeadBytes) return OTHER;
  const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
  const requestLine = lines[0]!;
  if (!requestLine.endsWith(SUFFIX)) return OTHER;
  const stream = requestLine.slice(PREFIX.length, -SUFFIX.length);
  if (!isValidStreamName(stream)) return OTHER;

  // No prototype: a header named like an Object method is just a header.
  const headers = Object.create(null) as Record<string, string>;
  for (let i = 1; i < lines.length; i++) {
    const m = HEADER_LINE.exec(lines[i]!);
    if (m === null) return OTHER;
    const name = m[1]!.toLowerCase();
    if (name in headers || HAND_OFF_HEADERS.has(name)) return OTHER;
    headers[name] = m[2]!;
  }
  if (headers.host === undefined) return OTHER;
  const length = headers['content-length'];
  if (length === undefined || !DIGITS.test(length)) return OTHER;
  const n = Number(length);
  if (!takesBody(headers['content-type'], n, limits.bodyLimit)) return OTHER;
  const connection = headers.connection?.toLowerCase();
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') return OTHER;

  const bodyStart = headEnd + 4;
  if (buf.length < bodyStart + n) return { kind: 'partial', need: bodyStart + n };
  return { kind: 'publish', stream, headers, bodyStart, end: bodyStart + n, close: connection === 'close' };
}

/**
 * The same publishes judged on node's parse, for connections node:http has: the stream name,
 * or undefined when the request is not one.
 */
export function streamOf(req: IncomingMessage, bodyLimit: number): string | undefined {
  if (req.method !== 'POST') return undefined;
  const url = req.url!;
  if (!url.startsWith(STREAMS) || !url.endsWith(EVENTS)) return undefined;
  const stream = url.slice(STREAMS.length, -EVENTS.length);
  // The name pattern excludes '/', '%' and '?', so this also rules out query strings and
  // anything the router would decode.
  if (!isValidStreamName(stream)) return undefined;
  const headers = req.headers;
  const length = headers['content-length'];
  if (length === undefined || headers['transfer-encoding'] !== undefined) return undefined;
  return takesBody(headers['content-type'], Number(length), bodyLimit) ? stream : undefined;
}

/**
 * The body rules both ways share: a length within the limit (past it, fastify's 413), and a
 * Content-Type from FAST_TYPES, or none with a non-empty body (no body is fastify's case).
 */
function takesBody(type: string | undefined, length: number, bodyLimit: number): boolean {
  if (!(length <= bodyLimit)) return false;
  return type === undefined ? length > 0 : FAST_TYPES.has(type);
}
