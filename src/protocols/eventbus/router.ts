import type { ClientCredentials } from './auth.js';
import type { Outcome } from './errors.js';
import type { EventBusMetrics } from './metrics.js';
import type { Operations, Result, WriteItem } from './operations.js';
import {
  DECODE_OPERATION,
  failure,
  MARK_FIELDS,
  missingFields,
  ok,
  REASON_BAD_STATUS,
  REASON_INVALID_JSON,
  REASON_UNAUTHORIZED,
  REASON_UNKNOWN_OPERATION,
  STREAM_FIELDS,
  WRITE_FIELDS,
} from './replies.js';
import { isOperation, NONE, parseMarkBody, parseRequest, parseStreamBody, parseWriteBody, textAt, type NameMemo, type Operation, type Request } from './request.js';
import type { Status } from './statuses.js';

/**
 * What a request line asks the session to do. The session answers in request order; `kind`
 * says what may run alongside (docs/eventbus.md "Pipelining"):
 * - `reply`: answered at once (health, exit, every decode, auth or validation error);
 * - `write` and `mark`: run while earlier writes and marks are still being committed;
 * - `barrier`: the rest (stream operations and reads) wait until every earlier request of the
 *   connection is answered, and later ones wait for them, so a connection reads its own writes.
 */
export type Job =
  | { kind: 'reply'; operation: string; result: Result; close?: boolean }
  | { kind: 'write'; item: WriteItem }
  | { kind: 'mark' | 'barrier'; operation: Operation; run: () => Promise<Result> };

/** Per connection: the last pair that passed (a connection's repeated credentials are checked once) and the last stream name. */
export interface AuthMemo extends NameMemo {
  /** Raw bytes of the accepted auth.client_id and auth.client_secret strings. */
  clientId?: Buffer;
  clientSecret?: Buffer;
}

const reply = (operation: string, text: string, outcome: Outcome, close?: boolean): Job => ({ kind: 'reply', operation, result: { reply: text, outcome }, ...(close ? { close } : {}) });

/** Turns request lines into jobs, in the original's order: decode → operation → auth → body. */
export class Router {
  constructor(
    private readonly ops: Operations,
    private readonly credentials: ClientCredentials,
    readonly metrics: EventBusMetrics,
  ) {}

  route(b: Uint8Array, start: number, end: number, memo: AuthMemo): Job {
    const request = parseRequest(b, start, end);
    if (!request) return reply(DECODE_OPERATION, failure(DECODE_OPERATION, REASON_INVALID_JSON), 'invalid');
    const op = request.operation;
    if (!isOperation(op)) return reply(DECODE_OPERATION, failure(DECODE_OPERATION, REASON_UNKNOWN_OPERATION), 'invalid');
    if (op === 'health') return reply(op, ok(op), 'ok');
    if (op === 'exit') return reply(op, ok(op), 'ok', true);
    if (!this.authorized(b, request, memo)) return reply(op, failure(op, REASON_UNAUTHORIZED), 'unauthorized');

    const body = request.bodyStart !== NONE;
    switch (op) {
      case 'write_event': {
        if (!body) return reply(op, missingFields(op, WRITE_FIELDS), 'invalid');
        const parsed = parseWriteBody(b, request, memo);
        if (!parsed) return reply(op, failure(op, REASON_INVALID_JSON), 'invalid');
        return { kind: 'write', item: parsed };
      }
      case 'mark_event': {
        if (!body) return reply(op, missingFields(op, MARK_FIELDS), 'invalid');
        const parsed = parseMarkBody(b, request);
        if (!parsed) return reply(op, failure(op, REASON_INVALID_JSON), 'invalid');
        if (parsed.status > 2) return reply(op, failure(op, REASON_BAD_STATUS), 'invalid');
        return { kind: 'mark', operation: op, run: () => this.ops.markEvent(parsed.eventId, parsed.status as Status) };
      }
      default: {
        if (!body) return reply(op, missingFields(op, STREAM_FIELDS), 'invalid');
        const parsed = parseStreamBody(b, request);
        if (!parsed) return reply(op, failure(op, REASON_INVALID_JSON), 'invalid');
        const name = parsed.streamName;
        return { kind: 'barrier', operation: op, run: () => this.streamOperation(op, name) };
      }
    }
  }

  private streamOperation(op: Exclude<Operation, 'health' | 'exit' | 'write_event' | 'mark_event'>, name: string): Promise<Result> {
    switch (op) {
      case 'create_stream': return this.ops.createStream(name);
      case 'delete_stream': return this.ops.deleteStream(name);
      case 'get_stream_info': return this.ops.getStreamInfo(name);
      case 'get_stream_events': return this.ops.getStreamEvents(name);
      case 'process_events': return this.ops.processEvents(name);
      case 'retry_events': return this.ops.retryEvents(name);
    }
  }

  private authorized(b: Uint8Array, r: Request, memo: AuthMemo): boolean {
    // Comparing with what this connection itself sent before reveals nothing about the secrets,
    // and spares hashing on every request of a connection that repeats its credentials.
    if (memo.clientId !== undefined && sameBytes(b, r.idStart, r.idEnd, memo.clientId) && sameBytes(b, r.secretStart, r.secretEnd, memo.clientSecret!)) return true;
    if (!this.credentials.check(textAt(b, r.idStart, r.idEnd), textAt(b, r.secretStart, r.secretEnd))) return false;
    memo.clientId = copy(b, r.idStart, r.idEnd);
    memo.clientSecret = copy(b, r.secretStart, r.secretEnd);
    return true;
  }
}

function copy(b: Uint8Array, start: number, end: number): Buffer {
  return start === NONE ? Buffer.alloc(0) : Buffer.from(b.subarray(start, end));
}

function sameBytes(b: Uint8Array, start: number, end: number, known: Buffer): boolean {
  if (start === NONE) return known.length === 0;
  if (end - start !== known.length) return false;
  for (let i = 0; i < known.length; i++) if (b[start + i] !== known[i]) return false;
  return true;
}
