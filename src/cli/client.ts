import { Option, type Command } from 'commander';
import { CliError, EXIT_USAGE } from './errors.js';

/** The flags of every command that talks to a running server, and the small HTTP client they use. */
export interface ClientFlags {
  url: string;
  token?: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:8000';

export function addClientFlags(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'the Herald server').env('HERALD_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'bearer token (needed when the server has auth.tokens)').env('HERALD_TOKEN'));
}

/** The server did not answer (refused, reset, DNS). */
export class UnreachableError extends CliError {}

/** An error answer from the server: `{"error":{"code","message"}}`. */
export class HttpStatusError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export class HeraldClient {
  private readonly base: string;

  constructor(private readonly flags: ClientFlags) {
    const url = flags.url || DEFAULT_URL; // an empty HERALD_URL counts as unset
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:') throw new CliError(`--url (or HERALD_URL) must be an http:// or https:// URL, got ${JSON.stringify(url)}`, EXIT_USAGE);
    this.base = url.replace(/\/+$/, '');
  }

  /** `/streams/<name>/events` with the stream name escaped. */
  static eventsPath(stream: string): string {
    return `/streams/${encodeURIComponent(stream)}/events`;
  }

  /** Sends a request; resolves with the parsed JSON of a 2xx answer, throws `HttpStatusError` otherwise. */
  async request<T>(method: string, path: string, init: { headers?: Record<string, string>; body?: string | Uint8Array; signal?: AbortSignal } = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (this.flags.token) headers.authorization = `Bearer ${this.flags.token}`;
    let response: Response;
    try {
      response = await fetch(this.base + path, { method, headers, ...(init.body !== undefined ? { body: init.body as string | Uint8Array<ArrayBuffer> } : {}), ...(init.signal ? { signal: init.signal } : {}) });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new UnreachableError(`cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new HttpStatusError(response.status, error?.code ?? (response.statusText || 'error'), error?.message ?? (text.slice(0, 200) || 'no message'));
    }
    return { status: response.status, body: body as T };
  }
}
