import { kvJson } from '../kv.js';
import type { KvListOptions, KvWrite } from '../types.js';
import { pgArray, type Db } from './clients.js';
import type { SchemaNames } from './schema.js';

/**
 * The adapters' own state in PostgreSQL: consumer positions, key-value collections and leases.
 * Each call is one statement (one transaction). Values are stored as JSON text, so what comes
 * back is a fresh copy and keeps key order and every string (jsonb would reorder keys and refuse
 * "\u0000").
 */
export class AdapterState {
  constructor(
    private readonly clients: { readonly pool: Db },
    private readonly n: SchemaNames,
  ) {}

  /** The current client (replaced after the database was lost). */
  private get db(): Db {
    return this.clients.pool;
  }

  /** Stores a position; false when the stream does not exist. */
  async setPosition(stream: string, consumer: string, seq: number): Promise<boolean> {
    const rows = await this.db.unsafe(
      `INSERT INTO ${this.n.t('positions')} (stream, consumer, seq)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM ${this.n.t('streams')} WHERE name = $1)
       ON CONFLICT (stream, consumer) DO UPDATE SET seq = EXCLUDED.seq RETURNING 1`,
      [stream, consumer, seq],
    );
    return rows.length > 0;
  }

  async getPosition(stream: string, consumer: string): Promise<number | undefined> {
    const [row] = await this.db.unsafe<Array<{ seq: number }>>(`SELECT seq FROM ${this.n.t('positions')} WHERE stream = $1 AND consumer = $2`, [stream, consumer]);
    return row?.seq;
  }

  /**
   * Applies the writes of one call atomically. A later write of a key wins; keys are written in
   * sorted order so two nodes writing the same keys never deadlock.
   */
  async kvWrite(writes: KvWrite[]): Promise<void> {
    const entries = lastWrites(writes);
    if (entries.length === 0) return;
    await this.db.unsafe(
      `WITH w AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) AS w(c, k, v, del)),
       gone AS (DELETE FROM ${this.n.t('kv')} kv USING w WHERE w.del AND kv.collection = w.c AND kv.key = w.k)
       INSERT INTO ${this.n.t('kv')} (collection, key, value) SELECT c, k, v FROM w WHERE NOT del
       ON CONFLICT (collection, key) DO UPDATE SET value = EXCLUDED.value`,
      [pgArray.text(entries.map((e) => e.collection)), pgArray.text(entries.map((e) => e.key)), pgArray.text(entries.map((e) => e.value ?? '')), pgArray.bool(entries.map((e) => e.value === undefined))],
    );
  }

  /** Store.kvWriteIf: the `kv_write_if` function (schema.ts), one round trip. */
  async kvWriteIf(expect: KvWrite[], writes: KvWrite[]): Promise<boolean> {
    const conditions = expect.map((e) => ({ collection: e.collection, key: e.key, json: kvJson(e.value) }));
    const entries = lastWrites(writes);
    const [row] = await this.db.unsafe<Array<{ ok: boolean }>>(
      `SELECT ${this.n.t('kv_write_if')}($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::boolean[]) AS ok`,
      [
        pgArray.text(conditions.map((c) => c.collection)), pgArray.text(conditions.map((c) => c.key)),
        pgArray.text(conditions.map((c) => c.json ?? '')), pgArray.bool(conditions.map((c) => c.json === undefined)),
        pgArray.text(entries.map((e) => e.collection)), pgArray.text(entries.map((e) => e.key)),
        pgArray.text(entries.map((e) => e.value ?? '')), pgArray.bool(entries.map((e) => e.value === undefined)),
      ],
    );
    return row?.ok === true;
  }

  async kvGet(collection: string, key: string): Promise<unknown> {
    const [row] = await this.db.unsafe<Array<{ value: string }>>(`SELECT value FROM ${this.n.t('kv')} WHERE collection = $1 AND key = $2`, [collection, key]);
    return row === undefined ? undefined : JSON.parse(row.value);
  }

  async kvList(collection: string, options: KvListOptions): Promise<Array<{ key: string; value: unknown }>> {
    const { prefix = '', after, limit = 1000, reverse = false } = options;
    const params: Array<string | number> = [collection, prefix, limit];
    let where = `collection = $1 AND key >= $2 AND starts_with(key, $2)`;
    if (after !== undefined) {
      params.push(after);
      where += reverse ? ' AND key < $4' : ' AND key > $4';
    }
    const rows = await this.db.unsafe<Array<{ key: string; value: string }>>(
      `SELECT key, value FROM ${this.n.t('kv')} WHERE ${where} ORDER BY key ${reverse ? 'DESC' : 'ASC'} LIMIT $3`,
      params,
    );
    return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as unknown }));
  }

  /**
   * Takes the lease when it is free or expired, renews it for its holder. Expiry is judged by
   * the database's clock, the one clock every node shares.
   */
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.db.unsafe(
      `INSERT INTO ${this.n.t('leases')} AS l (name, holder, expires) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires = EXCLUDED.expires
         WHERE l.holder = EXCLUDED.holder OR l.expires <= clock_timestamp()
       RETURNING 1`,
      [name, holder, Math.max(0, Math.round(ttlMs))],
    );
    return rows.length > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db.unsafe(`DELETE FROM ${this.n.t('leases')} WHERE name = $1 AND holder = $2`, [name, holder]);
  }
}

/**
 * The writes of one call as JSON text, the last write of each key only, in a fixed key order
 * (so two nodes writing the same keys lock them in the same order and never deadlock).
 */
function lastWrites(writes: readonly KvWrite[]): Array<{ collection: string; key: string; value: string | undefined }> {
  const last = new Map<string, { collection: string; key: string; value: string | undefined }>();
  for (const w of writes) last.set(`${w.collection}\u0000${w.key}`, { collection: w.collection, key: w.key, value: kvJson(w.value) });
  return [...last.values()].sort((a, b) => (a.collection === b.collection ? cmp(a.key, b.key) : cmp(a.collection, b.collection)));
}

/** A fixed order of keys (for lock ordering only; listing order is the database's). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
