import { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import { essenceOf, isJsonType, parseJson } from './media.js';

/**
 * A JSON request body checked against a zod schema: 415 (naming `what`) for a non-JSON Content-Type, 400
 * `invalid_json` for bad JSON, and 400 naming the first bad or unknown field otherwise.
 * An empty body counts as `{}`.
 */
export function parseJsonBody<T extends z.ZodType>(schema: T, body: Buffer | undefined, contentType: string | undefined, what = 'the body'): z.output<T> {
  if (body !== undefined && body.length > 0 && contentType !== undefined && !isJsonType(essenceOf(contentType))) {
    throw new HeraldError('unsupported_media_type', `${what} must be application/json, not ${JSON.stringify(contentType).slice(0, 100)}`);
  }
  const value = body === undefined || body.length === 0 ? {} : parseJson(body, 'the body');
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path.map(String), issue.keys[0]!].join('.');
    const allowed = allowedKeys(schema, issue.path);
    throw new HeraldError('bad_request', `unknown field ${JSON.stringify(field)} in the body${allowed ? ` (allowed: ${allowed})` : ''}`, { field });
  }
  throw new HeraldError('bad_request', `${path === '' ? 'the body' : `field ${JSON.stringify(path)}`}: ${issue.message}`, { field: path });
}

/** The keys the object schema at `path` accepts, for the error message. */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string | undefined {
  let current: z.ZodType = schema;
  for (const key of path) {
    const shape = objectShape(current);
    const next = shape?.[String(key)];
    if (next === undefined) return undefined;
    current = next;
  }
  const shape = objectShape(current);
  return shape ? Object.keys(shape).join(', ') : undefined;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : undefined;
}
