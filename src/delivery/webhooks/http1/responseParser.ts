/**
 * An incremental HTTP/1.1 response parser (RFC 9112) for the webhook client: bytes in, one
 * response out. It keeps only what a delivery needs: the status, the headers, the first bytes of
 * the body, and whether the connection can carry another request.
 *
 * Framing, in RFC 9112 §6.3 order: no body for HEAD, 1xx, 204 and 304; chunked when
 * Transfer-Encoding ends in `chunked`; read until close for any other Transfer-Encoding or when
 * no length is given; else Content-Length. Interim 1xx responses (100 Continue, 103 Early Hints)
 * are skipped. Bare LF line ends are accepted, as every mainstream client does.
 */

/** A response that breaks the protocol: the connection cannot be trusted any more. */
export class ResponseParseError extends Error {}

export interface ParsedResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its first value. */
  headers: Map<string, string>;
  /** The first `keepBodyBytes` of the body. */
  body: Buffer;
  /** Body bytes seen (all of them, or up to where reading stopped at the cap). */
  bodyBytes: number;
  /** False when the body went past `maxBodyBytes`: reading stopped, the connection must close. */
  complete: boolean;
  /** Whether the connection may carry another request. */
  reusable: boolean;
}

export interface ParserLimits {
  /** Status line plus headers, in bytes. */
  maxHeaderBytes: number;
  /** Body bytes read at most; past that the response is finished incomplete. */
  maxBodyBytes: number;
  /** Body bytes kept for the caller. */
  keepBodyBytes: number;
}

type Framing = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

type State = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'done';

/** A chunk size line (hex digits and extensions) longer than this is not a chunk size line. */
const MAX_CHUNK_LINE = 4096;
const CR = 13;
const LF = 10;

export class ResponseParser {
  private state: State = 'head';
  private pending: Buffer | undefined;
  private status = 0;
  private headers = new Map<string, string>();
  private framing: Framing = { kind: 'none' };
  private keepAlive = true;
  private chunkLeft = 0;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private bodyBytes = 0;
  private result: ParsedResponse | undefined;
  private sawBytes = false;
  private extra: Buffer | undefined;

  constructor(
    private readonly limits: ParserLimits,
    /** The request was HEAD: the response has no body whatever its headers say. */
    private readonly headRequest = false,
  ) {}

  /** The response, once complete. */
  get response(): ParsedResponse | undefined {
    return this.result;
  }

  private get finished(): boolean {
    return this.state === 'done';
  }

  /** Whether any byte of a response arrived (a reused connection that closes before that may be retried). */
  get started(): boolean {
    return this.sawBytes;
  }

  /**
   * The bytes that came after the response's end in the chunk that completed it: the start of
   * the next response on a pipelined connection, or bytes nobody asked for.
   */
  get rest(): Buffer | undefined {
    return this.extra;
  }

  /**
   * Feeds received bytes; returns the response once it is complete. Bytes past its end, in the
   * same chunk or fed later, are kept in `rest`. Throws ResponseParseError.
   */
  feed(chunk: Buffer): ParsedResponse | undefined {
    if (chunk.length > 0) this.sawBytes = true;
    if (this.state === 'done') {
      if (chunk.length > 0) this.extra = this.extra === undefined ? chunk : Buffer.concat([this.extra, chunk]);
      return this.result;
    }
    let data = chunk;
    if (this.pending !== undefined) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < data.length && !this.finished) {
      const next = this.step(data, at);
      if (next < 0) {
        // Not enough bytes for the next element: keep the rest for the next chunk.
        this.pending = data.subarray(at);
        const limit = this.state === 'chunk-size' ? MAX_CHUNK_LINE : this.limits.maxHeaderBytes;
        if (this.pending.length > limit) throw new ResponseParseError(`${this.state === 'chunk-size' ? 'chunk size line' : 'response headers'} over ${limit} bytes`);
        return undefined;
      }
      at = next;
    }
    if (this.finished && at < data.length) this.extra = data.subarray(at);
    return this.result;
  }

  /** The connection ended: completes a read-until-close body, else the response was cut short. */
  end(): ParsedResponse {
    if (this.state === 'done') return this.result!;
    if (this.state === 'body' && this.framing.kind === 'close') {
      this.keepAlive = false;
      this.finish(true);
      return this.result!;
    }
    throw new ResponseParseError(this.started ? 'the connection closed in the middle of the response' : 'the connection closed without a response');
  }

  /** One element from `at`: returns where the next starts, or -1 when more bytes are needed. */
  private step(data: Buffer, at: number): number {
    switch (this.state) {
      case 'head':
        return this.head(data, at);
      case 'body':
        return this.body(data, at);
      case 'chunk-size':
        return this.chunkSize(data, at);
      case 'chunk-data':
        return this.chunkData(data, at);
      case 'chunk-end':
        return this.chunkEnd(data, at);
      case 'trailers':
        return this.trailers(data, at);
      case 'done':
        return data.length;
    }
  }

  private head(data: Buffer, at: number): number {
    const end = headEnd(data, at);
    if (end < 0) return -1;
    if (end - at > this.limits.maxHeaderBytes) throw new ResponseParseError(`response headers over ${this.limits.maxHeaderBytes} bytes`);
    const lines = data.toString('latin1', at, end).split('\n');
    const statusLine = stripCr(lines[0]!);
    const match = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(statusLine);
    if (match === null) throw new ResponseParseError(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
    const status = Number(match[2]);
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const line = stripCr(lines[i]!);
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0 || !isToken(line, colon)) throw new ResponseParseError(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length' && headers.has(name) && headers.get(name) !== value) throw new ResponseParseError('conflicting Content-Length headers');
      if (!headers.has(name)) headers.set(name, value);
      else if (name === 'transfer-encoding' || name === 'connection') headers.set(name, `${headers.get(name)}, ${value}`);
    }
    const next = skipLineEnd(data, end);
    if (status < 200) {
      if (status === 101) throw new ResponseParseError('the server switched protocols unasked');
      return next; // interim response: the real one follows
    }
    this.status = status;
    this.headers = headers;
    const connection = (headers.get('connection') ?? '').toLowerCase();
    this.keepAlive = match[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    this.framing = this.framingOf(status, headers);
    if (this.framing.kind === 'close') this.keepAlive = false;
    if (this.framing.kind === 'none' || (this.framing.kind === 'length' && this.framing.left === 0)) {
      this.finish(true);
      return next;
    }
    this.state = this.framing.kind === 'chunked' ? 'chunk-size' : 'body';
    return next;
  }

  private framingOf(status: number, headers: Map<string, string>): Framing {
    if (this.headRequest || status === 204 || status === 304) return { kind: 'none' };
    const te = headers.get('transfer-encoding');
    if (te !== undefined) {
      const codings = te.toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
      return codings.at(-1) === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
    }
    const cl = headers.get('content-length');
    if (cl === undefined) return { kind: 'close' };
    // "5, 5" is allowed (identical repeats); anything else that is not digits is not.
    const values = new Set(cl.split(',').map((s) => s.trim()));
    const only = values.size === 1 ? [...values][0]! : '';
    if (!/^\d{1,15}$/.test(only)) throw new ResponseParseError(`invalid Content-Length: ${JSON.stringify(cl.slice(0, 40))}`);
    return { kind: 'length', left: Number(only) };
  }

  private body(data: Buffer, at: number): number {
    const framing = this.framing;
    const take = framing.kind === 'length' ? Math.min(framing.left, data.length - at) : data.length - at;
    this.keep(data, at, at + take);
    if (framing.kind === 'length') framing.left -= take;
    // Past the cap the body is never complete, even when its last byte arrived in this piece.
    if (this.bodyBytes > this.limits.maxBodyBytes) this.finish(false);
    else if (framing.kind === 'length' && framing.left === 0) this.finish(true);
    return at + take;
  }

  private chunkSize(data: Buffer, at: number): number {
    const lf = data.indexOf(LF, at);
    if (lf < 0) return -1;
    const line = stripCr(data.toString('latin1', at, lf));
    const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
    if (size === null) throw new ResponseParseError(`invalid chunk size line: ${JSON.stringify(line.slice(0, 40))}`);
    this.chunkLeft = parseInt(size[1]!, 16);
    this.state = this.chunkLeft === 0 ? 'trailers' : 'chunk-data';
    return lf + 1;
  }

  private chunkData(data: Buffer, at: number): number {
    const take = Math.min(this.chunkLeft, data.length - at);
    this.keep(data, at, at + take);
    this.chunkLeft -= take;
    if (this.chunkLeft === 0) this.state = 'chunk-end';
    if (this.bodyBytes > this.limits.maxBodyBytes) this.finish(false);
    return at + take;
  }

  private chunkEnd(data: Buffer, at: number): number {
    if (data[at] === LF) {
      this.state = 'chunk-size';
      return at + 1;
    }
    if (data[at] !== CR) throw new ResponseParseError('a chunk is longer than its size');
    if (at + 1 >= data.length) return -1;
    if (data[at + 1] !== LF) throw new ResponseParseError('a chunk is longer than its size');
    this.state = 'chunk-size';
    return at + 2;
  }

  /** Trailer fields after the last chunk, up to an empty line; their content is ignored. */
  private trailers(data: Buffer, at: number): number {
    const lf = data.indexOf(LF, at);
    if (lf < 0) return -1;
    const empty = lf === at || (lf === at + 1 && data[at] === CR);
    if (empty) this.finish(true);
    return lf + 1;
  }

  private keep(data: Buffer, from: number, to: number): void {
    this.bodyBytes += to - from;
    const room = this.limits.keepBodyBytes - this.keptBytes;
    if (room <= 0 || to === from) return;
    // A copy: the socket's buffer is reused.
    const piece = Buffer.from(data.subarray(from, Math.min(to, from + room)));
    this.kept.push(piece);
    this.keptBytes += piece.length;
  }

  private finish(complete: boolean): void {
    this.state = 'done';
    this.pending = undefined;
    this.result = {
      status: this.status,
      headers: this.headers,
      body: this.kept.length === 1 ? this.kept[0]! : Buffer.concat(this.kept),
      bodyBytes: this.bodyBytes,
      complete,
      reusable: complete && this.keepAlive,
    };
  }
}

/** Where the header block starting at `at` ends (the index of its blank line), or -1. */
function headEnd(data: Buffer, at: number): number {
  let i = at;
  for (;;) {
    const lf = data.indexOf(LF, i);
    if (lf < 0) return -1;
    // The line after this LF is blank when it is LF or CRLF.
    if (data[lf + 1] === LF) return lf + 1;
    if (data[lf + 1] === CR) {
      if (lf + 2 >= data.length) return -1;
      if (data[lf + 2] === LF) return lf + 1;
    }
    if (lf + 1 >= data.length) return -1;
    i = lf + 1;
  }
}

/** Past the blank line at `end` (LF or CRLF). */
function skipLineEnd(data: Buffer, end: number): number {
  return data[end] === CR ? end + 2 : end + 1;
}

function stripCr(line: string): string {
  return line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

/** RFC 9110 token characters in line[0, end). */
function isToken(line: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = line.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "!#$%&'*+-.^_`|~".includes(line[i]!);
    if (!ok) return false;
  }
  return true;
}
