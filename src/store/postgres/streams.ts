import type { StoredEvent } from '../../core/event.js';
import { metaToInfo } from '../meta.js';
import type { RetentionPolicy, StreamInfo } from '../types.js';
import type { Db } from './clients.js';
import type { SchemaNames } from './schema.js';

/**
 * Streams and events in PostgreSQL, apart from appends (appender.ts): reads, stream management,
 * retention and the purge of deleted streams. Each method is one statement.
 */

interface StreamRow {
  name: string;
  sid: number;
  created: string;
  head: number;
  first: number;
  bytes: number;
  retention: string;
}

interface EventRow {
  first: number;
  seq: number | null;
  id: string;
  type: string;
  time: string;
  subject: string | null;
  content_type: string;
  headers: string | null;
  data: Buffer;
}

/** Events removed per statement by retention and purge, so no transaction holds locks long. */
export const REMOVALS_PER_COMMIT = 5000;

/** A stream row is the store's stream metadata with its retention as JSON text. */
function toInfo(row: StreamRow): StreamInfo {
  return metaToInfo({ ...row, retention: JSON.parse(row.retention) as RetentionPolicy });
}

function toEvent(stream: string, row: EventRow): StoredEvent {
  const event: StoredEvent = { stream, seq: row.seq!, id: row.id, type: row.type, time: row.time, contentType: row.content_type, data: row.data };
  if (row.subject !== null) event.subject = row.subject;
  if (row.headers !== null) event.headers = JSON.parse(row.headers) as Record<string, string>;
  return event;
}

export class StreamTables {
  private readonly columns = 'name, sid, created, head, first, bytes, retention';

  constructor(
    private readonly clients: { readonly pool: Db },
    private readonly n: SchemaNames,
  ) {}

  /** The current client (replaced after the database was lost). */
  private get db(): Db {
    return this.clients.pool;
  }

  /** Events after `after` (undefined when the stream does not exist). One round trip. */
  async read(stream: string, after: number, limit: number): Promise<StoredEvent[] | undefined> {
    const rows = await this.db.unsafe<EventRow[]>(
      `SELECT s.first, e.seq, e.id, e.type, e.time, e.subject, e.content_type, e.headers, e.data
       FROM ${this.n.t('streams')} s LEFT JOIN LATERAL (
         SELECT * FROM ${this.n.t('events')} e WHERE e.sid = s.sid AND e.seq > greatest($2::bigint, s.first - 1) ORDER BY e.seq LIMIT $3
       ) e ON true
       WHERE s.name = $1`,
      [stream, after, Math.max(0, limit)],
      { prepare: true },
    );
    if (rows.length === 0) return undefined;
    return rows[0]!.seq === null ? [] : rows.map((r) => toEvent(stream, r));
  }

  async lookupId(id: string): Promise<{ stream: string; seq: number } | undefined> {
    const [row] = await this.db.unsafe<Array<{ name: string; seq: number }>>(
      `SELECT s.name, e.seq FROM ${this.n.t('events')} e JOIN ${this.n.t('streams')} s ON s.sid = e.sid AND e.seq >= s.first WHERE e.id = $1`,
      [id],
    );
    return row ? { stream: row.name, seq: row.seq } : undefined;
  }

  /** Creates a stream; undefined when one of that name exists. */
  async create(name: string, retention: RetentionPolicy): Promise<StreamInfo | undefined> {
    const [row] = await this.db.unsafe<StreamRow[]>(
      `INSERT INTO ${this.n.t('streams')} (name, created, retention) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING ${this.columns}`,
      [name, new Date().toISOString(), JSON.stringify(retention)],
    );
    return row ? toInfo(row) : undefined;
  }

  /** Creates a stream or sets its retention (when given). */
  async put(name: string, retention: RetentionPolicy | undefined, defaultRetention: RetentionPolicy): Promise<{ info: StreamInfo; created: boolean }> {
    const [row] = await this.db.unsafe<Array<StreamRow & { inserted: boolean }>>(
      `INSERT INTO ${this.n.t('streams')} AS s (name, created, retention) VALUES ($1, $2, $3) ON CONFLICT (name)
         DO UPDATE SET retention = CASE WHEN $4 THEN EXCLUDED.retention ELSE s.retention END
       RETURNING ${this.columns}, (xmax = 0) AS inserted`,
      [name, new Date().toISOString(), JSON.stringify(retention ?? defaultRetention), retention !== undefined],
    );
    return { info: toInfo(row!), created: row!.inserted };
  }

  async get(name: string): Promise<StreamInfo | undefined> {
    const [row] = await this.db.unsafe<StreamRow[]>(`SELECT ${this.columns} FROM ${this.n.t('streams')} WHERE name = $1`, [name]);
    return row ? toInfo(row) : undefined;
  }

  async list(): Promise<StreamInfo[]> {
    const rows = await this.db.unsafe<StreamRow[]>(`SELECT ${this.columns} FROM ${this.n.t('streams')} ORDER BY name`);
    return rows.map(toInfo);
  }

  /** Every stream's id and head (what a node re-reads when its LISTEN connection comes back). */
  async heads(): Promise<Array<{ name: string; sid: number; head: number }>> {
    return this.db.unsafe<Array<{ name: string; sid: number; head: number }>>(`SELECT name, sid, head FROM ${this.n.t('streams')}`);
  }

  /**
   * Deletes a stream and its consumer positions in one statement and tells every node (NOTIFY).
   * Its events stay until purged (a bounded number per statement); its sid is queued in `trash`
   * so a purge cut short by a restart resumes. Returns the sid, undefined when absent.
   */
  async delete(name: string): Promise<number | undefined> {
    const [row] = await this.db.unsafe<Array<{ sid: number }>>(
      `WITH d AS (DELETE FROM ${this.n.t('streams')} WHERE name = $1 RETURNING sid),
       t AS (INSERT INTO ${this.n.t('trash')} (sid) SELECT sid FROM d),
       p AS (DELETE FROM ${this.n.t('positions')} WHERE stream = $1 AND EXISTS (SELECT 1 FROM d))
       SELECT sid, pg_notify($2, 'd ' || sid || ' ' || $1) FROM d`,
      [name, this.n.channel],
    );
    return row?.sid;
  }

  /** Sids of deleted streams whose events await purging. */
  async trash(): Promise<number[]> {
    const rows = await this.db.unsafe<Array<{ sid: number }>>(`SELECT sid FROM ${this.n.t('trash')} ORDER BY sid`);
    return rows.map((r) => r.sid);
  }

  /** Removes up to REMOVALS_PER_COMMIT events of a deleted stream; forgets the sid once none are left. */
  async purgeStep(sid: number): Promise<number> {
    const [row] = await this.db.unsafe<Array<{ removed: number }>>(
      `WITH gone AS (
         DELETE FROM ${this.n.t('events')} e WHERE e.sid = $1 AND e.seq IN (
           SELECT seq FROM ${this.n.t('events')} WHERE sid = $1 ORDER BY seq LIMIT $2)
         RETURNING 1
       ), done AS (
         DELETE FROM ${this.n.t('trash')} WHERE sid = $1 AND (SELECT count(*) FROM gone) < $2
       ) SELECT count(*)::int AS removed FROM gone`,
      [sid, REMOVALS_PER_COMMIT],
    );
    return row?.removed ?? 0;
  }

  /** Streams with a retention policy, and the policy. */
  async retained(): Promise<Array<{ name: string; retention: RetentionPolicy }>> {
    const rows = await this.db.unsafe<Array<{ name: string; retention: string }>>(`SELECT name, retention FROM ${this.n.t('streams')} WHERE retention <> '{}' ORDER BY name`);
    return rows.map((r) => ({ name: r.name, retention: JSON.parse(r.retention) as RetentionPolicy }));
  }

  /** One retention step of one stream (see schema.ts `retain`); how many events it removed. */
  async retainStep(name: string, policy: RetentionPolicy, now: Date): Promise<number> {
    const cutoff = policy.maxAgeMs === undefined ? null : new Date(now.getTime() - policy.maxAgeMs).toISOString();
    const [row] = await this.db.unsafe<Array<{ removed: number }>>(
      `SELECT ${this.n.t('retain')}($1, $2, $3, $4) AS removed`,
      [name, policy.maxCount ?? null, cutoff, REMOVALS_PER_COMMIT],
    );
    return row?.removed ?? 0;
  }
}
