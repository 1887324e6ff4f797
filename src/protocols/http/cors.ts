import type { IncomingMessage, ServerResponse } from 'node:http';
import { MISSED_HEADER } from '../../delivery/sse.js';

/** Response headers a page on another origin may read (the rest are hidden from its scripts). */
const EXPOSED = ['location', 'retry-after', MISSED_HEADER].join(', ');
const METHODS = 'GET, POST, PUT, PATCH, DELETE';
/** Request headers a preflight may ask for: a comma-separated list of header names. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

export interface CorsSettings {
  /** Exact origins (`https://app.example.com`) allowed to call the API from a browser, or `*` for any. */
  origins: string[];
  maxAgeSeconds: number;
}

/**
 * Cross-origin access for browsers (CORS): pages served from the listed origins may call the
 * API, follow SSE streams and read the answers. Tokens travel in the Authorization header, never
 * in cookies, so credentials mode is not needed and not offered.
 *
 * One policy for every path a request can take: fastify's routes (an onRequest hook), the raw
 * publish fast path, and the SSE responses routes write themselves (headers set here on the node
 * response are merged into whatever they write).
 */
export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: Set<string>;
  private readonly maxAge: string;

  private constructor(settings: CorsSettings) {
    this.any = settings.origins.includes('*');
    this.origins = new Set(settings.origins);
    this.maxAge = String(settings.maxAgeSeconds);
  }

  /** The policy, or undefined when no origin is allowed (CORS off: no headers, no preflights). */
  static fromConfig(settings: CorsSettings): CorsPolicy | undefined {
    return settings.origins.length === 0 ? undefined : new CorsPolicy(settings);
  }

  /** Adds the CORS headers to the response when the request comes from an allowed origin. */
  apply(req: IncomingMessage, res: ServerResponse): void {
    const headers = this.headersFor(req.headers.origin);
    for (let i = 0; headers !== undefined && i < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
  }

  /** The CORS headers for a request from `origin`, as [name, value, …], or undefined if it is not allowed. */
  headersFor(origin: string | undefined): string[] | undefined {
    const allowed = this.allowed(origin);
    return allowed === undefined ? undefined : ['access-control-allow-origin', allowed, 'vary', 'origin', 'access-control-expose-headers', EXPOSED];
  }

  /**
   * The answer to a preflight (OPTIONS with Access-Control-Request-Method) from an allowed
   * origin: the headers of a 204, or undefined when it is not one (the request goes on as usual).
   */
  preflight(req: IncomingMessage): Record<string, string> | undefined {
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return undefined;
    const origin = this.allowed(req.headers.origin);
    if (origin === undefined) return undefined;
    const headers: Record<string, string> = {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': METHODS,
      'access-control-max-age': this.maxAge,
      vary: 'origin, access-control-request-headers',
    };
    const asked = req.headers['access-control-request-headers'];
    if (typeof asked === 'string' && HEADER_LIST.test(asked.trim())) headers['access-control-allow-headers'] = asked.trim();
    return headers;
  }

  private allowed(origin: string | undefined): string | undefined {
    if (typeof origin !== 'string' || origin === '') return undefined;
    return this.any || this.origins.has(origin) ? origin : undefined;
  }
}
