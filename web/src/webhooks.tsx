import { useState } from 'preact/hooks';
import { api, ApiError, enc, type Attempt, type DeadLetter, type Subscription, type TestDelivery } from './api.js';
import { usePoll } from './usePoll.js';

const POLL_MS = 1000;

/** What an operator sees first: a broken breaker matters more than the stored state. */
export function stateLabel(s: Subscription): string {
  if (s.state === 'active' && s.status.breaker !== 'closed') return `breaker ${s.status.breaker}`;
  return s.state;
}

function successRate(s: Subscription): string {
  const total = s.status.delivered + s.status.failed;
  return total === 0 ? '–' : `${((s.status.delivered / total) * 100).toFixed(1)}%`;
}

function latency(attempts: Attempt[] | undefined): string {
  if (!attempts || attempts.length === 0) return '–';
  return `${(attempts.reduce((n, a) => n + a.latencyMs, 0) / attempts.length).toFixed(0)} ms`;
}

interface Listing {
  subscriptions: Subscription[];
  attempts: Map<string, Attempt[]>;
}

async function loadListing(): Promise<Listing> {
  const { subscriptions } = await api<{ subscriptions: Subscription[] }>('GET', '/subscriptions');
  const attempts = new Map<string, Attempt[]>();
  await Promise.all(subscriptions.map(async (s) => attempts.set(s.id, (await api<{ attempts: Attempt[] }>('GET', `/subscriptions/${enc(s.id)}/attempts?limit=20`)).attempts)));
  return { subscriptions, attempts };
}

export function WebhooksPage({ selectedId }: { selectedId: string | undefined }) {
  const listing = usePoll(loadListing, POLL_MS);
  const [secret, setSecret] = useState<{ id: string; secret: string } | undefined>(undefined);
  const subs = listing.data?.subscriptions ?? [];
  const selected = subs.find((s) => s.id === selectedId);
  return (
    <section aria-labelledby="webhooks-h">
      <h1 id="webhooks-h">Webhooks</h1>
      {listing.error && <p role="alert">{listing.error}</p>}
      {secret && (
        <div class="secret" role="alertdialog" aria-labelledby="secret-h" aria-describedby="secret-d">
          <h2 id="secret-h">Signing secret for {secret.id}</h2>
          <p id="secret-d">Copy it now: it is shown only once and never again.</p>
          <pre data-testid="secret" tabIndex={0} aria-label="Signing secret">{secret.secret}</pre>
          <button type="button" onClick={() => setSecret(undefined)} autoFocus>I have saved it</button>
        </div>
      )}
      <table aria-labelledby="webhooks-h" data-testid="webhooks-table">
        <thead><tr><th scope="col">Endpoint</th><th scope="col">Stream</th><th scope="col">State</th><th scope="col">Lag</th><th scope="col">Success</th><th scope="col">Latency</th><th scope="col">Delivered / failed</th></tr></thead>
        <tbody>
          {subs.map((s) => (
            <tr key={s.id} class={s.id === selectedId ? 'sel' : ''}>
              <th scope="row"><a href={`#/webhooks/${enc(s.id)}`} aria-current={s.id === selectedId ? 'true' : undefined}>{s.url}</a><div class="muted">{s.id}</div></th>
              <td>{s.stream}</td>
              <td data-testid={`state-${s.id}`}><span class={`badge ${stateLabel(s).replace(/\W+/g, '-')}`}>{stateLabel(s)}</span></td>
              <td>{s.status.lag}</td>
              <td>{successRate(s)}</td>
              <td>{latency(listing.data?.attempts.get(s.id))}</td>
              <td>{s.status.delivered} / {s.status.failed}</td>
            </tr>
          ))}
          {listing.data && subs.length === 0 && <tr><td colSpan={7}>No webhook endpoints yet.</td></tr>}
        </tbody>
      </table>
      {selected ? <EndpointPanel sub={selected} attempts={listing.data?.attempts.get(selected.id) ?? []} reload={listing.reload} /> : <CreateForm onCreated={(id, s) => { setSecret({ id, secret: s }); listing.reload(); location.hash = `#/webhooks/${enc(id)}`; }} />}
    </section>
  );
}

function useAction(reload: () => void): { busy: boolean; error: string | undefined; run: (f: () => Promise<unknown>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = async (f: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await f();
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    } finally {
      setBusy(false);
      reload();
    }
  };
  return { busy, error, run };
}

function CreateForm({ onCreated }: { onCreated: (id: string, secret: string) => void }) {
  const [form, setForm] = useState({ stream: '', url: '', description: '', retrySchedule: '', timeoutMs: '' });
  const { busy, error, run } = useAction(() => {});
  const field = (key: keyof typeof form, label: string, props: Record<string, unknown> = {}) => (
    <div class="field">
      <label for={`new-${key}`}>{label}</label>
      <input id={`new-${key}`} value={form[key]} onInput={(e) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value })} {...props} />
    </div>
  );
  const submit = (e: Event): void => {
    e.preventDefault();
    void run(async () => {
      const body: Record<string, unknown> = { stream: form.stream, url: form.url };
      if (form.description) body.description = form.description;
      if (form.retrySchedule.trim()) body.retrySchedule = form.retrySchedule.split(',').map((v) => Number(v.trim()));
      if (form.timeoutMs.trim()) body.timeoutMs = Number(form.timeoutMs);
      const created = await api<{ subscription: Subscription; secret: string }>('POST', '/subscriptions', body);
      onCreated(created.subscription.id, created.secret);
    });
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="create-h">
      <h2 id="create-h">New endpoint</h2>
      {field('stream', 'Stream', { required: true })}
      {field('url', 'Endpoint URL', { required: true, type: 'url', placeholder: 'https://example.com/hook' })}
      {field('description', 'Description')}
      {field('retrySchedule', 'Retry delays in ms, comma-separated (empty: default)')}
      {field('timeoutMs', 'Timeout per attempt, ms (empty: default)', { inputMode: 'numeric' })}
      {error && <p role="alert">{error}</p>}
      <button type="submit" disabled={busy}>Create endpoint</button>
    </form>
  );
}

function EndpointPanel({ sub, attempts, reload }: { sub: Subscription; attempts: Attempt[]; reload: () => void }) {
  const letters = usePoll(() => api<{ deadLetters: DeadLetter[] }>('GET', `/subscriptions/${enc(sub.id)}/dead-letters?limit=100`).then((r) => r.deadLetters), POLL_MS, [sub.id]);
  const { busy, error, run } = useAction(() => {
    reload();
    letters.reload();
  });
  const [edit, setEdit] = useState<{ url: string; description: string } | undefined>(undefined);
  const [replay, setReplay] = useState('');
  const [tested, setTested] = useState<string | undefined>(undefined);
  const post = (path: string, body?: unknown) => () => api('POST', `/subscriptions/${enc(sub.id)}${path}`, body);
  const sendTest = async (): Promise<void> => {
    setTested(undefined);
    const r = await api<TestDelivery>('POST', `/subscriptions/${enc(sub.id)}/test`);
    setTested(`Test event ${r.delivered ? 'delivered' : 'not delivered'}: ${r.status !== undefined ? `HTTP ${r.status}` : (r.error ?? 'no answer')} in ${Math.round(r.latencyMs)} ms`);
  };
  const doReplay = (e: Event): void => {
    e.preventDefault();
    const v = replay.trim();
    void run(post('/replay', /^[0-9]+$/.test(v) ? { fromSeq: Number(v) } : { fromTime: new Date(v).toISOString() }));
  };
  return (
    <section class="panel" aria-labelledby="endpoint-h">
      <h2 id="endpoint-h">Endpoint <code>{sub.id}</code></h2>
      <dl class="kv">
        <dt>URL</dt><dd>{sub.url}</dd>
        <dt>Stream</dt><dd>{sub.stream}</dd>
        <dt>State</dt><dd data-testid="endpoint-state">{stateLabel(sub)}{sub.disabledReason ? ` (${sub.disabledReason})` : ''}</dd>
        <dt>Position / head</dt><dd>{sub.status.position} / {sub.status.head} (lag {sub.status.lag})</dd>
        <dt>Retries</dt><dd>{sub.retrySchedule.join(', ')} ms</dd>
        {sub.rateLimit !== undefined && (<><dt>Rate limit</dt><dd>{sub.rateLimit} attempts/s</dd></>)}
        {sub.maxInFlight > 1 && (<><dt>In flight</dt><dd>{sub.maxInFlight} at most{(sub.pipelining ?? 1) > 1 ? `, up to ${sub.pipelining} pipelined per connection` : ''}</dd></>)}
        {sub.description && (<><dt>Description</dt><dd>{sub.description}</dd></>)}
      </dl>
      <div class="toolbar" role="toolbar" aria-label="Endpoint actions">
        {sub.state === 'active' ? <button type="button" disabled={busy} onClick={() => void run(post('/pause'))}>Pause</button> : <button type="button" disabled={busy} onClick={() => void run(post('/resume'))}>Resume</button>}
        <button type="button" disabled={busy} onClick={() => void run(sendTest)}>Send test event</button>
        <button type="button" disabled={busy || sub.source !== 'api'} onClick={() => setEdit({ url: sub.url, description: sub.description ?? '' })}>Edit</button>
        <button type="button" class="danger" disabled={busy || sub.source !== 'api'} onClick={() => { if (confirm(`Delete endpoint ${sub.id}? Its position and dead letters go with it.`)) void run(async () => { await api('DELETE', `/subscriptions/${enc(sub.id)}`); location.hash = '#/webhooks'; }); }}>Delete</button>
        <a href="#/webhooks">Back to the list / new endpoint</a>
      </div>
      {error && <p role="alert">{error}</p>}
      {tested && <p role="status" data-testid="test-result">{tested}</p>}
      {edit && (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void run(async () => { await api('PATCH', `/subscriptions/${enc(sub.id)}`, { url: edit.url, description: edit.description }); setEdit(undefined); }); }} aria-label="Edit endpoint">
          <label for="edit-url">Endpoint URL</label>
          <input id="edit-url" type="url" value={edit.url} onInput={(e) => setEdit({ ...edit, url: (e.target as HTMLInputElement).value })} />
          <label for="edit-description">Description</label>
          <input id="edit-description" value={edit.description} onInput={(e) => setEdit({ ...edit, description: (e.target as HTMLInputElement).value })} />
          <button type="submit">Save</button>
          <button type="button" onClick={() => setEdit(undefined)}>Cancel</button>
        </form>
      )}
      <h3 id="attempts-h">Recent attempts</h3>
      <table aria-labelledby="attempts-h" data-testid="attempts-table">
        <thead><tr><th scope="col">Time</th><th scope="col">Seq</th><th scope="col">Attempt</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Outcome</th><th scope="col">Error</th></tr></thead>
        <tbody>
          {attempts.map((a) => (
            <tr key={`${a.time}-${a.seq}-${a.attempt}`}><td>{a.time.slice(11, 23)}</td><td>{a.seq}</td><td>{a.attempt}</td><td>{a.status ?? '–'}</td><td>{a.latencyMs} ms</td><td>{a.outcome}</td><td>{a.error ?? ''}</td></tr>
          ))}
          {attempts.length === 0 && <tr><td colSpan={7}>No attempts yet.</td></tr>}
        </tbody>
      </table>
      <h3 id="dead-h">Dead letters</h3>
      <div class="toolbar">
        <button type="button" disabled={busy || (letters.data?.length ?? 0) === 0} onClick={() => void run(post('/dead-letters/redrive'))}>Redrive all</button>
        <form onSubmit={doReplay} class="inline">
          <label for="replay-from">Replay from seq or time</label>
          <input id="replay-from" value={replay} onInput={(e) => setReplay((e.target as HTMLInputElement).value)} placeholder="42 or 2026-01-02T03:04:05Z" />
          <button type="submit" disabled={busy}>Replay</button>
        </form>
      </div>
      <table aria-labelledby="dead-h" data-testid="dead-letters-table">
        <thead><tr><th scope="col">Seq</th><th scope="col">Event id</th><th scope="col">Attempts</th><th scope="col">Last status</th><th scope="col">Error</th><th scope="col">Failed at</th><th scope="col"><span class="sr-only">Action</span></th></tr></thead>
        <tbody>
          {(letters.data ?? []).map((d) => (
            <tr key={d.seq}><td>{d.seq}</td><td><code>{d.eventId}</code></td><td>{d.attempts}</td><td>{d.status ?? '–'}</td><td>{d.error ?? ''}</td><td>{d.failedAt.slice(11, 23)}</td>
              <td><button type="button" disabled={busy || d.redrive === true} onClick={() => void run(post(`/dead-letters/${d.seq}/redrive`))} aria-label={`Redrive seq ${d.seq}`}>{d.redrive ? 'Redriving…' : 'Redrive'}</button></td></tr>
          ))}
          {letters.data?.length === 0 && <tr><td colSpan={7}>No dead letters.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
