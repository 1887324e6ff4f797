import { createHash } from 'node:crypto';
import type { HeraldConfig } from '../../config/schema.js';
import { HeraldError } from '../../core/errors.js';
import { createSubscriptionSchema, type CreateSubscription, type Subscription } from './subscription.js';

/** A subscription declared in the config file, validated like one created through the API. */
export type DeclaredSubscription = CreateSubscription & {
  id: string;
  source: Exclude<Subscription['source'], 'api'>;
  format?: Subscription['format'];
};

/** go-sep's per-target timeout (its HTTP client's 10 s). */
const GOSEP_TIMEOUT_MS = 10_000;

/**
 * Every subscription the config declares: the `subscriptions` list, and one per go-sep queue
 * target (the go-sep policy and request format, compat.md §1). Throws `invalid_config` naming
 * the entry and field of the first invalid one.
 */
export function configuredSubscriptions(config: HeraldConfig, env: NodeJS.ProcessEnv = process.env): DeclaredSubscription[] {
  const out: DeclaredSubscription[] = [];
  config.subscriptions.forEach((entry, i) => {
    const { id, secretEnv, ...fields } = entry;
    let secret = fields.secret;
    if (secretEnv !== undefined) {
      secret = env[secretEnv];
      if (secret === undefined || secret === '') throw new HeraldError('invalid_config', `subscriptions[${i}] (${id}): the environment variable ${secretEnv} named by secretEnv is not set`);
    }
    const parsed = validate({ ...fields, ...(secret !== undefined ? { secret } : {}) }, `subscriptions[${i}] (${id})`);
    out.push({ ...parsed, id, source: 'config' });
  });
  for (const [queue, targets] of Object.entries(config.gosep.queues)) {
    for (const target of targets) {
      const parsed = validate({ stream: queue, url: target.url, policy: 'gosep', buffer: target.buffer, timeoutMs: GOSEP_TIMEOUT_MS }, `gosep.queues.${queue}`);
      out.push({ ...parsed, id: gosepSubscriptionId(queue, target.url), source: 'gosep', format: 'gosep' });
    }
  }
  const seen = new Set<string>();
  for (const d of out) {
    if (seen.has(d.id)) throw new HeraldError('invalid_config', `subscription id ${JSON.stringify(d.id)} is declared twice`);
    seen.add(d.id);
  }
  return out;
}

/** A go-sep target's stable id: its queue and a hash of its URL, so its position survives restarts and reordering. */
export function gosepSubscriptionId(queue: string, url: string): string {
  return `gosep.${queue}.${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

function validate(input: unknown, where: string): CreateSubscription {
  const parsed = createSubscriptionSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = [...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [])].join('.');
  throw new HeraldError('invalid_config', `${where}: field ${JSON.stringify(field)}: ${issue.message}`);
}
