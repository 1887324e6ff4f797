import { afterEach, describe, expect, it } from 'vitest';
import { EventBusClient } from '../../src/index.js';
import { serve, stopServe, type Served } from '../cli/helpers.js';
import { openConn } from './helpers.js';

/** `herald serve` runs the event-bus listener by default, configured from the environment. */

let served: Served | undefined;
afterEach(async () => {
  await stopServe(served);
  served = undefined;
});

const eventbusUrl = async (s: Served): Promise<string> => (await s.waitForLog((l) => l.listener === 'eventbus' && typeof l.url === 'string')).url as string;

describe('herald serve', () => {
  it('starts the event-bus listener with no clients, refuses authenticated operations and warns', async () => {
    served = await serve(['--memory', '--port', '0']);
    const url = await eventbusUrl(served);
    expect(url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const warning = await served.waitForLog((l) => String(l.msg).includes('no event-bus clients configured'));
    expect(warning.level).toBe(40);
    const conn = await openConn(Number(url.split(':').pop()));
    expect(await conn.ask('{"operation":"health"}', '{"operation":"create_stream","auth":{"client_id":"","client_secret":""},"body":{"stream_name":"x"}}')).toEqual([
      '{"operation":"health","status":true}',
      '{"operation":"create_stream","status":false,"reason":"unauthorized to make request"}',
    ]);
    conn.close();
  });

  it('takes clients from HERALD_EVENTBUS_CLIENTS, secrets from their variables; HTTP sees event-bus writes', async () => {
    served = await serve(['--memory', '--port', '0'], {
      HERALD_EVENTBUS_CLIENTS: JSON.stringify([{ client_id: 'svc', client_secret_env: 'SVC_SECRET' }]),
      SVC_SECRET: 'from-env',
    });
    const client = await EventBusClient.connect(await eventbusUrl(served), { clientId: 'svc', clientSecret: 'from-env' });
    await client.createStream('orders');
    await client.writeEvent('orders', { id: 42 });
    await client.close();
    const res = await fetch(`${served.url}/streams/orders/events`);
    const body = (await res.json()) as { events: Array<{ data: unknown }> };
    expect(JSON.stringify(body.events[0])).toContain('42');
    expect(served.logs.some((l) => String(l.msg).includes('no event-bus clients configured'))).toBe(false);
  });

  it('can be turned off', async () => {
    served = await serve(['--memory', '--port', '0'], { HERALD_EVENTBUS_ENABLED: 'false' });
    // The follower-maze listeners start after the event-bus one: once they are up, it would be too.
    await served.waitForLog((l) => l.listener === 'followermaze-clients');
    expect(served.logs.some((l) => l.listener === 'eventbus')).toBe(false);
    expect(served.logs.some((l) => String(l.msg).includes('event-bus'))).toBe(false);
  });
});
