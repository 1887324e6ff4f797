import { createHash, timingSafeEqual } from 'node:crypto';
import { HeraldError } from '../../core/errors.js';
import type { EventbusClientConfig } from '../../config/sections/eventbus.js';

/**
 * The configured (client_id, client_secret) pairs (`eventbus.clients`). A request is allowed
 * when its pair equals one of them, as in the original. Pairs are compared as SHA-256 digests of
 * the whole pair with `timingSafeEqual`, against every configured client, so the time taken
 * says nothing about how much of a secret was right or which client matched.
 */
export class ClientCredentials {
  private constructor(
    private readonly digests: readonly Buffer[],
    /** Labels of the configured clients, for logs. */
    readonly names: readonly string[],
  ) {}

  /** Reads `client_secret_env` variables now, so a missing one fails at start-up. */
  static fromConfig(clients: readonly EventbusClientConfig[], env: NodeJS.ProcessEnv = process.env): ClientCredentials {
    const names: string[] = [];
    const digests = clients.map((c, i) => {
      const name = c.name ?? c.client_id;
      const secret = c.client_secret ?? (c.client_secret_env !== undefined ? env[c.client_secret_env] : undefined);
      if (secret === undefined || secret === '') {
        throw new HeraldError('invalid_config', `eventbus.clients[${i}] (${JSON.stringify(name)}): environment variable ${c.client_secret_env ?? '(none)'} is not set`);
      }
      names.push(name);
      return digest(c.client_id, secret);
    });
    return new ClientCredentials(digests, names);
  }

  /** No clients configured: every authenticated operation is refused. */
  get empty(): boolean {
    return this.digests.length === 0;
  }

  /** True when (clientId, clientSecret) is a configured pair. */
  check(clientId: string, clientSecret: string): boolean {
    const presented = digest(clientId, clientSecret);
    let found = false;
    for (const d of this.digests) found = timingSafeEqual(presented, d) || found;
    return found;
  }
}

/** One digest of the pair, unambiguous (a JSON array), so id and secret cannot trade characters. */
function digest(clientId: string, clientSecret: string): Buffer {
  return createHash('sha256').update(JSON.stringify([clientId, clientSecret])).digest();
}
