import { goString } from './json.js';
import { OPERATIONS } from './request.js';

/**
 * Reply lines, byte for byte as the original writes them (compat.md §3): one compact JSON
 * object and a newline, keys in the order operation, status, body, context, reason, empty ones
 * left out, strings escaped as Go's encoder does.
 */

/** The operation name used for lines that name no known operation. */
export const DECODE_OPERATION = 'decode_request';

export const REASON_INVALID_JSON = 'invalid json provided';
export const REASON_UNAUTHORIZED = 'unauthorized to make request';
export const REASON_MISSING_FIELDS = 'missing required fields';
// The original's list really names retry_events twice (compat.md §3).
export const REASON_UNKNOWN_OPERATION = `operation must be one of: '${[...OPERATIONS.slice(0, 8), 'retry_events', ...OPERATIONS.slice(8)].join("', '")}'`;
export const REASON_BAD_STATUS = "status must be one of: 0 - unprocessed', '1 - processed', '2 - retry";

const okReplies = new Map<string, string>();
/** A success reply without a body (the same few strings over and over: built once each). */
export function ok(operation: string): string {
  let reply = okReplies.get(operation);
  if (reply === undefined) okReplies.set(operation, (reply = `{"operation":${goString(operation)},"status":true}\n`));
  return reply;
}

/** A success reply with a body; `bodyJson` is already rendered JSON. */
export function okWithBody(operation: string, bodyJson: string): string {
  return `{"operation":${goString(operation)},"status":true,"body":${bodyJson}}\n`;
}

export function failure(operation: string, reason: string): string {
  return `{"operation":${goString(operation)},"status":false,"reason":${goString(reason)}}\n`;
}

/** A body field the original's reflection lists in "missing required fields". */
export interface RequiredField {
  name: string;
  type: string;
}

export const STREAM_FIELDS: readonly RequiredField[] = [{ name: 'stream_name', type: 'string' }];
export const WRITE_FIELDS: readonly RequiredField[] = [
  { name: 'stream_name', type: 'string' },
  { name: 'event', type: '[]byte' },
];
export const MARK_FIELDS: readonly RequiredField[] = [
  { name: 'event_id', type: 'string' },
  { name: 'status', type: 'uint8' },
];

/** `body` was absent: the reply names the fields the operation needs. */
export function missingFields(operation: string, fields: readonly RequiredField[]): string {
  const list = fields.map((f) => `{"name":${goString(f.name)},"type":${goString(f.type)},"required":true}`).join(',');
  return `{"operation":${goString(operation)},"status":false,"context":{"body":[${list}]},"reason":"${REASON_MISSING_FIELDS}"}\n`;
}

export const notFoundStream = (name: string): string => `stream '${name}' not found`;
export const streamExists = (name: string): string => `stream: '${name}' already exists`;
export const notFoundEvent = (id: string): string => `event '${id}' not found`;
