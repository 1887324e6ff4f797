import { connect } from 'node:net';
import { Hub } from '/work/main/src/core/hub.js';
import { MemoryStore } from '/work/main/src/store/memory.js';
import { configSchema } from '/work/main/src/config/schema.js';
import { createEventBusListener } from '/work/main/src/protocols/eventbus/index.js';
import { pino } from 'pino';
const hub = new Hub({ store: new MemoryStore(), retentionIntervalMs: 0 });
await hub.start();
const config = configSchema.parse({ eventbus: { port: 0, clients: [{ client_id: 'id', client_secret: 'sec' }] } });
const l = createEventBusListener(hub, config, pino({level:'warn'}));
await l.start();
const port = Number(l.url!.split(':').pop());
const a = `"auth": {"client_id": "id", "client_secret": "sec"}`;
const lines = [
 `{"operation": "health"}`,
 `{"operation": "create_stream", ${a}, "body": {"stream_name": "steve"}}`,
 `{"operation": "create_stream", ${a}, "body": {"stream_name": "steve"}}`,
 `{"operation": "write_event", ${a}, "body": {"stream_name": "steve", "event": {"e1": "event <1> & value", "n": 2.50}}}`,
 `{"operation": "write_event", ${a}, "body": {"stream_name": "steve"}}`,
 `{"operation": "write_event", ${a}, "body": {"stream_name": "nope", "event": 1}}`,
 `{"operation": "process_events", ${a}, "body": {"stream_name": "steve"}}`,
 `{"operation": "mark_event", ${a}, "body": {"event_id": "x", "status": 3}}`,
 `{"operation": "mark_event", ${a}, "body": {"event_id": "x", "status": 1}}`,
 `{"operation": "mark_event", ${a}}`,
 `{"operation": "get_stream_info", ${a}}`,
 `{"operation": "get_stream_info", "body": {}}`,
 `not json`,
 `{}`,
 `{"operation": "write_event", ${a}, "body": {"stream_name": "steve", "event": [1, 2]}}`,
 `{"operation": "get_stream_events", ${a}, "body": {"stream_name": "steve"}}`,
 `{"operation": "exit"}`,
 `{"operation": "health"}`,
];
const s = connect(port, '127.0.0.1');
s.write(lines.join('\n') + '\n');
let out = '';
s.on('data', (d) => (out += d));
s.on('close', async () => { console.log(out); await l.stop(); await hub.close(); });
