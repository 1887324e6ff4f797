/**
 * The dashboard's only way to the server: the public HTTP API, with the operator's token (if
 * any) as a bearer header on every call. The token lives in sessionStorage, so it is gone when
 * the tab closes.
 */

const TOKEN_KEY = 'herald.token';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let token: string = sessionStorage.getItem(TOKEN_KEY) ?? '';
const unauthorizedListeners = new Set<() => void>();

export function getToken(): string {
  return token;
}

export function setToken(value: string): void {
  token = value;
  if (value === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

/** Called whenever the server answers 401: the app goes back to the login page. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function authHeaders(): Record<string, string> {
  return token === '' ? {} : { authorization: `Bearer ${token}` };
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(), accept: 'application/json' };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  if (!res.ok) {
    let code = 'http_error';
    let message = `${res.status} ${res.statusText}`;
    try {
      const parsed = JSON.parse(text) as { error?: { code: string; message: string } };
      if (parsed.error) ({ code, message } = parsed.error);
    } catch {
      /* not JSON: keep the status line */
    }
    if (res.status === 401) for (const l of unauthorizedListeners) l();
    throw new ApiError(res.status, code, message);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export const enc = encodeURIComponent;

export interface StreamInfo {
  name: string;
  created: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
  bytes: number;
}

export interface StoredEvent {
  stream: string;
  seq: number;
  id: string;
  type: string;
  time: string;
  subject?: string;
  contentType: string;
  headers?: Record<string, string>;
  data?: unknown;
  data_base64?: string;
}

export interface SystemInfo {
  startedAt: string;
  uptimeSeconds: number;
  store: { kind: string; open: boolean; streams: number; events: number; bytes: number; diskBytes?: number };
  listeners: Array<{ name: string; url: string | null; connections: number | null }>;
}

export interface LaneStatus {
  position: number;
  head: number;
  lag: number;
  inFlight: number;
  breaker: 'closed' | 'open' | 'half-open' | string;
  delivered: number;
  failed: number;
  retried: number;
  dropped: number;
}

export interface Subscription {
  id: string;
  stream: string;
  url: string;
  description?: string;
  state: 'active' | 'paused' | 'disabled';
  disabledReason?: string;
  source: string;
  retrySchedule: number[];
  timeoutMs: number;
  maxInFlight: number;
  rateLimit?: number;
  pipelining?: number;
  status: LaneStatus;
}

/** `POST /subscriptions/{id}/test`. */
export interface TestDelivery {
  eventId: string;
  delivered: boolean;
  status?: number;
  error?: string;
  latencyMs: number;
  response?: string;
}

export interface Attempt {
  time: string;
  seq: number;
  eventId: string;
  attempt: number;
  status?: number;
  error?: string;
  latencyMs: number;
  outcome: string;
}

export interface DeadLetter {
  seq: number;
  eventId: string;
  attempts: number;
  status?: number;
  error?: string;
  failedAt: string;
  redrive?: boolean;
}

export interface EventbusCounts {
  name: string;
  eventbusName: string;
  id: string;
  events: number;
  unprocessed: number;
  processed: number;
  retry: number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
