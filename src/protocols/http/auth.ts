import { createHash, timingSafeEqual } from 'node:crypto';
import { HeraldError } from '../../core/errors.js';
import type { TokenConfig } from '../../config/schema.js';
import { compilePattern, matchesAny, type Matcher } from '../../core/patterns.js';


/**
 * Bearer tokens and their scopes (`config.auth.tokens`).
 *
 * A scope is `publish`, `read` or `admin`, optionally followed by `:<stream pattern>` where `*`
 * matches any run of characters; no pattern (or `*`) means every stream. `admin` implies
 * `publish` and `read` on the streams it covers and is what PUT/DELETE of a stream needs.
 * Server-wide reads (`/metrics`, whose labels name every stream) need `read` or `admin` on every
 * stream.
 */
export type Action = 'publish' | 'read' | 'admin';

export class Principal {
  constructor(
    /** The token's label (its `name`, else `token #<n>`), for logs. */
    readonly name: string,
    private readonly grants: Record<Action, Matcher[]>,
  ) {}

  /** True when the token may do `action` on `stream`. */
  can(action: Action, stream: string): boolean {
    return matchesAny(this.grants.admin, stream) || (action !== 'admin' && matchesAny(this.grants[action], stream));
  }

  /** True when the token may do `action` on every stream (server-wide reads). */
  canAll(action: Action): boolean {
    return this.grants.admin.includes(null) || (action !== 'admin' && this.grants[action].includes(null));
  }

  /** True when the token may do `action` on at least some stream (listing streams). */
  canAny(action: Action): boolean {
    return this.grants.admin.length > 0 || (action !== 'admin' && this.grants[action].length > 0);
  }
}

interface Credential {
  hash: Buffer;
  principal: Principal;
}

export class AccessControl {
  private constructor(private readonly credentials: Credential[]) {}

  /**
   * Resolves the configured tokens (reading `tokenEnv` variables now, so a missing variable
   * fails at start-up rather than on the first request). Undefined when no tokens are
   * configured: then there are no checks at all.
   */
  static fromConfig(tokens: readonly TokenConfig[], env: NodeJS.ProcessEnv = process.env): AccessControl | undefined {
    if (tokens.length === 0) return undefined;
    const credentials = tokens.map((t, i) => {
      const name = t.name ?? `token #${i + 1}`;
      const secret = t.token ?? (t.tokenEnv !== undefined ? env[t.tokenEnv] : undefined);
      if (secret === undefined || secret.length < 16) {
        const where = t.tokenEnv !== undefined ? `environment variable ${t.tokenEnv} is ${secret === undefined ? 'not set' : 'shorter than 16 characters'}` : 'no token given';
        throw new HeraldError('invalid_config', `auth token ${JSON.stringify(name)}: ${where}`);
      }
      return { hash: sha256(secret), principal: new Principal(name, compileScopes(t.scopes)) };
    });
    return new AccessControl(credentials);
  }

  /**
   * The principal behind an `Authorization` header, or a 401. Tokens are compared as SHA-256
   * digests with `timingSafeEqual` and every credential is compared, so the time taken says
   * nothing about how much of a token was right or which one matched.
   */
  authenticate(authorization: string | undefined): Principal {
    if (authorization === undefined) throw new HeraldError('unauthorized', 'this request needs a bearer token (Authorization: Bearer <token>)');
    const space = authorization.indexOf(' ');
    if (space < 0 || authorization.slice(0, space).toLowerCase() !== 'bearer') {
      throw new HeraldError('unauthorized', 'the Authorization header must be "Bearer <token>"');
    }
    const presented = sha256(authorization.slice(space + 1).trim());
    let found: Principal | undefined;
    for (const c of this.credentials) {
      if (timingSafeEqual(presented, c.hash) && found === undefined) found = c.principal;
    }
    if (found === undefined) throw new HeraldError('unauthorized', 'unknown bearer token');
    return found;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function compileScopes(scopes: readonly string[]): Record<Action, Matcher[]> {
  const grants: Record<Action, Matcher[]> = { publish: [], read: [], admin: [] };
  for (const scope of scopes) {
    const colon = scope.indexOf(':');
    const action = (colon < 0 ? scope : scope.slice(0, colon)) as Action;
    if (!(action in grants)) throw new HeraldError('invalid_config', `unknown scope ${JSON.stringify(scope)}: use publish, read or admin, optionally with :<stream pattern>`);
    grants[action].push(colon < 0 ? null : compilePattern(scope.slice(colon + 1)));
  }
  return grants;
}


/** Throws 403 unless the principal (if any: no access control means no checks) may act. */
export function authorize(principal: Principal | undefined, action: Action, stream: string): void {
  if (principal !== undefined && !principal.can(action, stream)) {
    throw new HeraldError('forbidden', `token ${JSON.stringify(principal.name)} lacks the ${action} scope for stream ${JSON.stringify(stream)}`);
  }
}
