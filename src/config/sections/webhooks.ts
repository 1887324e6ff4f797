import { z } from 'zod';

/** Defaults and limits of webhook delivery (issue 3). */
export const webhooksSection = z
  .object({
    enabled: z.boolean().default(true).describe('Run the webhook delivery lanes (and serve /subscriptions).'),
    timeoutMs: z.number().int().min(100).max(300_000).default(15_000).describe('Default time allowed per delivery attempt, in ms.'),
    retrySchedule: z
      .array(z.number().int().min(0).max(86_400_000))
      .max(50)
      .default([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000])
      .describe('Default delays between attempts, in ms (Standard Webhooks: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); each gets ±20 % jitter.'),
    maxResponseBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(64 * 1024).describe('Most response body bytes read from an endpoint; past it the connection is dropped.'),
    attemptHistory: z.number().int().min(1).max(10_000).default(100).describe('Attempts remembered per endpoint for the API (the newest; in memory).'),
    breakerThreshold: z.number().int().min(1).max(1000).default(5).describe('Consecutive failures that open an endpoint\'s circuit breaker.'),
    breakerCooldownMs: z.number().int().min(10).max(86_400_000).default(5_000).describe('How long an open breaker waits before a probe; doubles after each failed probe.'),
    breakerMaxCooldownMs: z.number().int().min(10).max(86_400_000).default(300_000).describe('The longest wait of an open breaker, in ms.'),
    secretGraceMs: z.number().int().min(0).max(30 * 86_400_000).default(86_400_000).describe('After a secret rotation, how long the old secret keeps signing too, in ms.'),
    leaseMs: z.number().int().min(1_000).max(600_000).default(15_000).describe('Lease of a lane on a shared (postgres) store: another node takes over this long after its holder dies.'),
    syncIntervalMs: z.number().int().min(100).max(600_000).default(2_000).describe('On a shared (postgres) store, how often a node re-reads the subscriptions other nodes changed, in ms.'),
    maxConnectionsPerOrigin: z.number().int().min(1).max(1024).default(64).describe('Connections to one endpoint origin at most (keep-alive, reused); further requests wait for a free one.'),
  })
  .strict()
  .prefault({})
  .describe('Webhook delivery.');

/** A subscription defined in the config file (kept in sync with the store at start-up). */
const configSubscription = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" and "-", at most 100').describe('Stable id (its position survives restarts under it).'),
    stream: z.string().min(1).describe('The stream delivered.'),
    url: z.string().min(1).describe('The endpoint (http or https).'),
    secret: z.string().optional().describe('Signing secret (whsec_…); generated and logged once when absent.'),
    secretEnv: z.string().min(1).optional().describe('Name of an environment variable holding the secret.'),
    description: z.string().optional(),
    filter: z.object({ types: z.array(z.string()).optional(), subjects: z.array(z.string()).optional() }).strict().optional(),
    maxInFlight: z.number().int().optional(),
    rateLimit: z.number().int().optional(),
    pipelining: z.number().int().optional(),
    timeoutMs: z.number().int().optional(),
    retrySchedule: z.array(z.number().int()).optional(),
    policy: z.enum(['durable', 'gosep']).optional(),
    buffer: z.number().int().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    start: z.union([z.literal('now'), z.literal('earliest'), z.number().int()]).optional(),
  })
  .strict()
  .refine((s) => !(s.secret !== undefined && s.secretEnv !== undefined), { message: 'give at most one of secret and secretEnv' });

export const subscriptionsSection = z
  .array(configSubscription)
  .default([])
  .describe('Webhook subscriptions defined in config: {id, stream, url, secret|secretEnv, filter, maxInFlight, rateLimit, pipelining, timeoutMs, retrySchedule, policy, buffer, headers, start}. The API cannot edit or delete them.');

export type ConfigSubscription = z.output<typeof configSubscription>;
