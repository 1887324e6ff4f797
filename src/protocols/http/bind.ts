import { isIP } from 'node:net';
import { HeraldError } from '../../core/errors.js';
import type { HeraldConfig } from '../../config/schema.js';

/**
 * The loopback-only rule: with no access tokens anyone who can reach the port can publish,
 * read and delete, so Herald binds beyond loopback without tokens only when told to
 * (`http.insecure`). Exported so the CLI can check a config before starting anything.
 */

/** True for hosts that only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    const lower = h.toLowerCase();
    return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || (lower.startsWith('::ffff:127.') && isIP(lower.slice(7)) === 4);
  }
  return false;
}

/** Throws `invalid_config` when the HTTP listener would be open to the network without tokens. */
export function assertSafeBind(config: Pick<HeraldConfig, 'http' | 'auth'>): void {
  const { host, insecure } = config.http;
  if (config.auth.tokens.length > 0 || insecure || isLoopbackHost(host)) return;
  throw new HeraldError(
    'invalid_config',
    `refusing to bind the HTTP API to ${host}: no access tokens are configured (auth.tokens), so it may only bind to a loopback address such as 127.0.0.1; configure tokens, or set http.insecure to allow it anyway`,
    { host },
  );
}

/** The start-up warning for a listener without tokens, or undefined when tokens are configured. */
export function openAccessWarning(config: Pick<HeraldConfig, 'http' | 'auth'>): string | undefined {
  if (config.auth.tokens.length > 0) return undefined;
  if (isLoopbackHost(config.http.host)) return `no access tokens configured: bound to ${config.http.host} only`;
  return `no access tokens configured and http.insecure is set: anyone who can reach ${config.http.host} can publish, read and delete streams`;
}
