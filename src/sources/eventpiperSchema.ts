import type { Sql } from 'postgres';

/**
 * The original EventPiper schema (postgresql/schema.sql, compat.md §4), created piece by piece
 * when absent so an existing database is used as it is. An advisory lock serialises nodes that
 * start together against one database.
 */
const SCHEMA_LOCK = 0x4865_7261; // "Hera"

export async function ensureEventPiperSchema(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
    await tx.unsafe(`
      CREATE TABLE IF NOT EXISTS events (
        id BIGSERIAL PRIMARY KEY,
        type varchar NOT NULL,
        timestamp timestamp without time zone NOT NULL,
        subscriber varchar NOT NULL,
        payload jsonb NOT NULL
      )`);
    await tx.unsafe('CREATE INDEX IF NOT EXISTS events_subscriber_index ON events (subscriber)');
    const fn = await tx`SELECT 1 FROM pg_proc WHERE proname = 'notify_new_event'`;
    if (fn.length === 0) {
      await tx.unsafe(`
        CREATE FUNCTION notify_new_event() RETURNS trigger AS $$
        BEGIN
          PERFORM pg_notify('new_events', row_to_json(NEW)::text);
          RETURN NEW;
        END;
        $$ LANGUAGE plpgsql`);
    }
    const trigger = await tx`SELECT 1 FROM pg_trigger WHERE tgname = 'event_created' AND tgrelid = 'events'::regclass`;
    if (trigger.length === 0) {
      await tx.unsafe('CREATE TRIGGER event_created AFTER INSERT ON events FOR EACH ROW EXECUTE PROCEDURE notify_new_event()');
    }
  });
}
