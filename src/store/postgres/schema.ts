import type { Sql } from 'postgres';

/**
 * The postgres store's schema and its migrations. Every node runs `migrate` on start: under an
 * advisory lock (so nodes starting together do not race), it applies the migrations the
 * `schema_version` table has not recorded yet, each in its own transaction.
 *
 * Tables live in their own PostgreSQL schema (config `store.schema`, default `herald`), so the
 * SQL below names them through `t()`. Text compared or listed by Herald is `COLLATE "C"` (code
 * point order, as the other stores list keys), not the database's locale order.
 */

/** A PostgreSQL schema name as config accepts it: also safe to splice into SQL unquoted. */
export const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Names of the objects in one Herald schema. */
export class SchemaNames {
  constructor(readonly schema: string) {
    if (!SCHEMA_NAME_PATTERN.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  }
  /** A table or function of this schema, qualified: `herald.events`. */
  t(name: string): string {
    return `${this.schema}.${name}`;
  }
  /** The LISTEN/NOTIFY channel this schema's stores talk on. */
  get channel(): string {
    return `${this.schema}_appends`;
  }
  /** Key of the advisory lock held while migrating. */
  get migrationLockKey(): number {
    let h = 0x48524c44; // "HRLD"
    for (const c of this.schema) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
    return h;
  }
}

/** Each migration is a list of statements; its index + 1 is the version it brings the schema to. */
type Migration = (n: SchemaNames) => string[];

const MIGRATIONS: Migration[] = [
  // 1: streams, events, positions, key-value collections, leases, the purge queue, and the
  //    functions that append a batch and apply one retention step (each one round trip).
  (n) => [
    `CREATE TABLE ${n.t('streams')} (
       name text COLLATE "C" PRIMARY KEY,
       sid bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
       created text NOT NULL,
       head bigint NOT NULL DEFAULT 0,
       first bigint NOT NULL DEFAULT 1,
       bytes bigint NOT NULL DEFAULT 0,
       retention text NOT NULL DEFAULT '{}'
     ) WITH (fillfactor = 50)`,
    `CREATE TABLE ${n.t('events')} (
       sid bigint NOT NULL,
       seq bigint NOT NULL,
       id text COLLATE "C" NOT NULL,
       type text NOT NULL,
       time text NOT NULL,
       subject text,
       content_type text NOT NULL,
       headers text,
       data bytea NOT NULL,
       PRIMARY KEY (sid, seq)
     )`,
    `CREATE UNIQUE INDEX events_id ON ${n.t('events')} (id)`,
    `CREATE TABLE ${n.t('positions')} (
       stream text COLLATE "C" NOT NULL,
       consumer text COLLATE "C" NOT NULL,
       seq bigint NOT NULL,
       PRIMARY KEY (stream, consumer)
     )`,
    `CREATE TABLE ${n.t('kv')} (
       collection text COLLATE "C" NOT NULL,
       key text COLLATE "C" NOT NULL,
       value text NOT NULL,
       PRIMARY KEY (collection, key)
     )`,
    `CREATE TABLE ${n.t('leases')} (
       name text COLLATE "C" PRIMARY KEY,
       holder text NOT NULL,
       expires timestamptz NOT NULL
     )`,
    `CREATE TABLE ${n.t('trash')} (sid bigint PRIMARY KEY)`,
    appendFunction(n),
    retainFunction(n),
  ],
  // 2: conditional key-value writes (Store.kvWriteIf), for read-modify-write across nodes.
  (n) => [kvWriteIfFunction(n)],
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Appends one group-commit batch atomically, in one round trip. Inputs are parallel arrays, one
 * element per event, except that an array whose elements would all be equal may be sent as
 * that one element (most batches are one stream, one type, one time), and payloads come as one
 * `p_data` blob cut by `p_len`: parsing a large array of bytea or repeated strings cost more
 * than the insert itself. `p_op` numbers the append call each event came from, and
 * `p_nocreate` lists the calls that may not create streams (such a call fails alone when a
 * stream is missing). Only ids with `p_check` set (producer-chosen) are looked up: a stored one
 * makes the event a duplicate, as does an earlier event of the batch with the same id.
 *
 * The answer is small whatever the batch size: one `s` row per stream touched (its sid, head
 * before and after), one `d` row per duplicate (its input position, original stream and seq),
 * one `f` row per failed call. The stored events of a stream got the seqs after its old head in
 * input order, so the caller derives every seq from these.
 *
 * Order: every stream row the batch touches is locked (in name order, so two batches never wait
 * on each other in a cycle; for one stream, by the UPDATE that moves its head) before its head is
 * read, and held until commit. Two transactions
 * appending to one stream therefore commit one after the other, in seq order: a reader can
 * never see seq n+1 committed while n is not (docs/scaling.md). The NOTIFY per grown stream is
 * delivered to every listening node at commit.
 */
function appendFunction(n: SchemaNames): string {
  const expand = (name: string): string => `IF cardinality(${name}) = 1 AND v_n > 1 THEN ${name} := array_fill(${name}[1], ARRAY[v_n]); END IF;`;
  return `CREATE FUNCTION ${n.t('append')}(
      p_stream text[], p_id text[], p_check boolean[], p_op int[], p_nocreate int[],
      p_type text[], p_time text[], p_subject text[], p_ctype text[], p_headers text[],
      p_len int[], p_data bytea, p_retention text)
    RETURNS TABLE (o_kind "char", o_ord bigint, o_sid bigint, o_seq bigint, o_head bigint, o_name text)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_n int := cardinality(p_id);
      v_names text[];
      v_sids bigint[];
      v_heads bigint[];
      v_fail int[] := '{}';
      v_sid bigint;
      v_old bigint;
    BEGIN
      IF cardinality(p_stream) = 1 AND NOT (true = ANY (p_check)) THEN
        -- The common case: one stream, fresh ids. The UPDATE locks the stream's row until commit
        -- and moves its head, in one statement.
        UPDATE ${n.t('streams')} SET head = head + v_n, bytes = bytes + octet_length(p_data)
          WHERE name = p_stream[1] RETURNING sid, head - v_n INTO v_sid, v_old;
        IF NOT FOUND AND cardinality(p_nocreate) = 0 THEN
          INSERT INTO ${n.t('streams')} (name, created, retention) VALUES (p_stream[1], p_time[1], p_retention) ON CONFLICT (name) DO NOTHING;
          UPDATE ${n.t('streams')} SET head = head + v_n, bytes = bytes + octet_length(p_data)
            WHERE name = p_stream[1] RETURNING sid, head - v_n INTO v_sid, v_old;
        END IF;
        IF FOUND THEN
          ${['p_type', 'p_time', 'p_subject', 'p_ctype', 'p_headers'].map(expand).join('\n          ')}
          INSERT INTO ${n.t('events')} (sid, seq, id, type, time, subject, content_type, headers, data)
            SELECT v_sid, v_old + u.ord, u.id, u.type, u.time, nullif(u.subject, ''), u.ctype, nullif(u.headers, ''),
              substring(p_data FROM (u.pos - u.len + 1)::int FOR u.len)
            FROM (
              SELECT u.*, sum(u.len) OVER (ORDER BY u.ord) AS pos
              FROM unnest(p_id, p_type, p_time, p_subject, p_ctype, p_headers, p_len)
                WITH ORDINALITY AS u(id, type, time, subject, ctype, headers, len, ord)
            ) u;
          RETURN QUERY SELECT 's'::"char", NULL::bigint, v_sid, v_old, v_old + v_n, p_stream[1];
          PERFORM pg_notify('${n.channel}', 'a ' || v_sid || ' ' || (v_old + v_n) || ' ' || p_stream[1]);
          RETURN;
        END IF;
      END IF;

      -- Several streams, producer ids to look up, or a stream that may not be created.
      ${['p_stream', 'p_check', 'p_op', 'p_type', 'p_time', 'p_subject', 'p_ctype', 'p_headers'].map(expand).join('\n      ')}

      INSERT INTO ${n.t('streams')} (name, created, retention)
        SELECT u.name, min(u.time), p_retention FROM unnest(p_stream, p_op, p_time) AS u(name, op, time)
        WHERE u.op <> ALL (p_nocreate) AND NOT EXISTS (SELECT 1 FROM ${n.t('streams')} s WHERE s.name = u.name)
        GROUP BY u.name ORDER BY u.name
        ON CONFLICT (name) DO NOTHING;

      SELECT array_agg(x.name), array_agg(x.sid), array_agg(x.head) INTO v_names, v_sids, v_heads FROM (
        SELECT s.name, s.sid, s.head FROM ${n.t('streams')} s WHERE s.name = ANY (p_stream) ORDER BY s.name FOR UPDATE
      ) x;

      IF cardinality(p_nocreate) > 0 THEN
        SELECT coalesce(array_agg(DISTINCT u.op), '{}') INTO v_fail FROM unnest(p_stream, p_op) AS u(name, op)
          WHERE u.name <> ALL (coalesce(v_names, '{}'));
      END IF;

      -- Ids left by events of a deleted stream (awaiting purge) are free again.
      IF true = ANY (p_check) THEN
        DELETE FROM ${n.t('events')} e USING unnest(p_id, p_check) AS u(id, chk)
          WHERE u.chk AND e.id = u.id
            AND NOT EXISTS (SELECT 1 FROM ${n.t('streams')} s WHERE s.sid = e.sid AND e.seq >= s.first);
      END IF;

      RETURN QUERY
      WITH inp AS (
        SELECT u.stream, u.id, u.chk, u.op, u.type, u.time, u.subject, u.ctype, u.headers, u.ord,
          substring(p_data FROM (sum(u.len) OVER (ORDER BY u.ord) - u.len + 1)::int FOR u.len) AS data,
          h.sid, h.head, (u.op = ANY (v_fail)) AS failed
        FROM unnest(p_stream, p_id, p_check, p_op, p_type, p_time, p_subject, p_ctype, p_headers, p_len)
          WITH ORDINALITY AS u(stream, id, chk, op, type, time, subject, ctype, headers, len, ord)
        LEFT JOIN unnest(v_names, v_sids, v_heads) AS h(name, sid, head) ON h.name = u.stream
      ), stored AS (
        SELECT e.id, s.name AS stream, e.seq FROM ${n.t('events')} e JOIN ${n.t('streams')} s ON s.sid = e.sid
        WHERE e.id = ANY (ARRAY(SELECT i.id FROM inp i WHERE i.chk AND NOT i.failed))
      ), firsts AS (
        SELECT DISTINCT ON (i.id) i.id, i.ord FROM inp i
        WHERE i.chk AND NOT i.failed AND NOT EXISTS (SELECT 1 FROM stored d WHERE d.id = i.id)
        ORDER BY i.id, i.ord
      ), kept AS (
        SELECT i.*, i.head + row_number() OVER (PARTITION BY i.sid ORDER BY i.ord) AS seq FROM inp i
        WHERE NOT i.failed AND (NOT i.chk OR EXISTS (SELECT 1 FROM firsts f WHERE f.ord = i.ord))
      ), ins AS (
        INSERT INTO ${n.t('events')} (sid, seq, id, type, time, subject, content_type, headers, data)
        SELECT k.sid, k.seq, k.id, k.type, k.time, nullif(k.subject, ''), k.ctype, nullif(k.headers, ''), k.data FROM kept k
      ), grown AS (
        UPDATE ${n.t('streams')} s SET head = g.head, bytes = s.bytes + g.bytes
        FROM (SELECT k.sid, max(k.seq) AS head, sum(octet_length(k.data)) AS bytes FROM kept k GROUP BY k.sid) g
        WHERE s.sid = g.sid
      )
      SELECT 'd'::"char", i.ord, NULL::bigint, coalesce(d.seq, f.seq), NULL::bigint, coalesce(d.stream, f.stream)
      FROM inp i
      LEFT JOIN stored d ON d.id = i.id
      LEFT JOIN kept f ON d.id IS NULL AND f.chk AND f.id = i.id AND f.ord <> i.ord
      WHERE i.chk AND NOT i.failed AND NOT EXISTS (SELECT 1 FROM kept k WHERE k.ord = i.ord)
      UNION ALL
      SELECT 'f'::"char", o, NULL, NULL, NULL, NULL FROM unnest(v_fail) AS o;

      RETURN QUERY
      SELECT 's'::"char", NULL::bigint, s.sid, o.head, s.head, s.name
        FROM ${n.t('streams')} s JOIN unnest(v_sids, v_heads) AS o(sid, head) ON o.sid = s.sid;

      PERFORM pg_notify('${n.channel}', 'a ' || s.sid || ' ' || s.head || ' ' || s.name)
        FROM ${n.t('streams')} s JOIN unnest(v_sids, v_heads) AS o(sid, head) ON o.sid = s.sid
        WHERE s.head > o.head;
    END
    $fn$`;
}

/**
 * One retention step for one stream, in one transaction: removes from the front at most
 * `p_limit` events that are beyond the newest `p_max_count` or older than `p_cutoff` (RFC 3339,
 * compared as text: every stored time has the same format), stopping at the first event that is
 * kept. Returns how many were removed. The head never moves; `first` moves up.
 */
function retainFunction(n: SchemaNames): string {
  return `CREATE FUNCTION ${n.t('retain')}(p_name text, p_max_count bigint, p_cutoff text, p_limit int)
    RETURNS bigint LANGUAGE plpgsql AS $fn$
    DECLARE
      v_sid bigint;
      v_first bigint;
      v_to bigint;
      v_stop bigint;
      v_count bigint;
      v_bytes bigint;
    BEGIN
      SELECT s.sid, s.first, CASE WHEN p_max_count IS NULL THEN s.first - 1 ELSE s.head - p_max_count END
        INTO v_sid, v_first, v_to FROM ${n.t('streams')} s WHERE s.name = p_name FOR UPDATE;
      IF NOT FOUND THEN RETURN 0; END IF;
      WITH front AS (
        SELECT e.seq, e.time FROM ${n.t('events')} e WHERE e.sid = v_sid AND e.seq >= v_first ORDER BY e.seq LIMIT p_limit
      )
      SELECT coalesce(min(f.seq) FILTER (WHERE NOT (f.seq <= v_to OR (p_cutoff IS NOT NULL AND f.time < p_cutoff))), max(f.seq) + 1)
        INTO v_stop FROM front f;
      IF v_stop IS NULL OR v_stop <= v_first THEN RETURN 0; END IF;
      WITH gone AS (
        DELETE FROM ${n.t('events')} e WHERE e.sid = v_sid AND e.seq >= v_first AND e.seq < v_stop
        RETURNING octet_length(e.data) AS b
      ) SELECT count(*), coalesce(sum(b), 0) INTO v_count, v_bytes FROM gone;
      UPDATE ${n.t('streams')} SET first = v_stop, bytes = bytes - v_bytes WHERE sid = v_sid;
      RETURN v_count;
    END
    $fn$`;
}

/**
 * A conditional key-value write in one round trip: `p_e*` are the conditions (collection, key,
 * JSON text, absent), `p_w*` the writes (`p_wdel`: delete). Returns false, writing nothing,
 * when a condition does not hold.
 *
 * Atomic across nodes: an advisory lock per condition key (taken in a fixed order, held until
 * commit) makes a second call on the same key wait, and since each statement of a plpgsql
 * function takes a new snapshot (READ COMMITTED), its check then sees the first call's writes.
 * A lock, rather than a row lock, so that a key expected to be absent is covered too; rows that
 * exist are locked as well, against a plain kvWrite landing between the check and the writes.
 */
function kvWriteIfFunction(n: SchemaNames): string {
  const kv = n.t('kv');
  return `CREATE FUNCTION ${n.t('kv_write_if')}(
      p_ec text[], p_ek text[], p_ev text[], p_eabsent boolean[],
      p_wc text[], p_wk text[], p_wv text[], p_wdel boolean[])
    RETURNS boolean LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_advisory_xact_lock(x.h1, x.h2)
        FROM (SELECT DISTINCT hashtext(u.c) AS h1, hashtext(u.k) AS h2 FROM unnest(p_ec, p_ek) AS u(c, k) ORDER BY 1, 2) x;
      PERFORM 1 FROM ${kv} kv JOIN unnest(p_ec, p_ek) AS u(c, k) ON kv.collection = u.c AND kv.key = u.k
        ORDER BY kv.collection, kv.key FOR UPDATE OF kv;
      IF EXISTS (
        SELECT 1 FROM unnest(p_ec, p_ek, p_ev, p_eabsent) AS e(c, k, v, absent)
        LEFT JOIN ${kv} kv ON kv.collection = e.c AND kv.key = e.k
        WHERE CASE WHEN e.absent THEN kv.key IS NOT NULL ELSE kv.value IS DISTINCT FROM e.v END
      ) THEN
        RETURN false;
      END IF;
      DELETE FROM ${kv} kv USING unnest(p_wc, p_wk, p_wdel) AS w(c, k, del)
        WHERE w.del AND kv.collection = w.c AND kv.key = w.k;
      INSERT INTO ${kv} (collection, key, value)
        SELECT w.c, w.k, w.v FROM unnest(p_wc, p_wk, p_wv, p_wdel) AS w(c, k, v, del) WHERE NOT w.del
        ON CONFLICT (collection, key) DO UPDATE SET value = EXCLUDED.value;
      RETURN true;
    END
    $fn$`;
}

/**
 * Creates the schema when absent and applies every migration not applied yet. Refuses to run
 * against a schema newer than this code (a node left on an old release during an upgrade).
 */
export async function migrate(sql: Sql, names: SchemaNames): Promise<{ from: number; to: number }> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${names.migrationLockKey})`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${names.schema}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${names.t('schema_version')} (version int NOT NULL, applied timestamptz NOT NULL DEFAULT now())`);
    const [row] = await tx.unsafe<Array<{ v: number | null }>>(`SELECT max(version) AS v FROM ${names.t('schema_version')}`);
    const from = row?.v ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new Error(`the database schema "${names.schema}" is at version ${from}, newer than this Herald knows (${SCHEMA_VERSION}); upgrade Herald`);
    }
    for (let v = from; v < SCHEMA_VERSION; v++) {
      for (const statement of MIGRATIONS[v]!(names)) await tx.unsafe(statement);
      await tx.unsafe(`INSERT INTO ${names.t('schema_version')} (version) VALUES (${v + 1})`);
    }
    return { from, to: SCHEMA_VERSION };
  }) as Promise<{ from: number; to: number }>;
}
