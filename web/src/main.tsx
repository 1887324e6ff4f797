import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, getToken, onUnauthorized, setToken } from './api.js';
import { EventbusPage } from './eventbus.js';
import { Login } from './login.js';
import { Overview } from './overview.js';
import { StreamPage } from './stream.js';
import { WebhooksPage } from './webhooks.js';
import './style.css';

/** `#/`, `#/stream/<name>`, `#/webhooks`, `#/webhooks/<id>`, `#/eventbus`. */
function useRoute(): string[] {
  const parse = (): string[] => location.hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = (): void => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

type Auth = 'checking' | 'ok' | 'login';

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<Auth>('checking');
  const [message, setMessage] = useState<string | undefined>(undefined);
  useEffect(() => {
    api('GET', '/streams').then(() => setAuth('ok'), (err) => setAuth(err instanceof ApiError && err.status === 401 ? 'login' : 'ok'));
    return onUnauthorized(() => {
      setMessage(getToken() === '' ? undefined : 'The token was refused: log in again.');
      setAuth('login');
    });
  }, []);
  if (auth === 'checking') return <p class="muted" role="status">Loading…</p>;
  if (auth === 'login') return <Login message={message} onLogin={() => setAuth('ok')} />;

  const [page, arg] = route;
  const link = (href: string, label: string, active: boolean) => <a href={href} aria-current={active ? 'page' : undefined}>{label}</a>;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header>
        <strong class="brand">Herald</strong>
        <nav aria-label="Pages">
          {link('#/', 'Overview', page === undefined || page === 'stream')}
          {link('#/webhooks', 'Webhooks', page === 'webhooks')}
          {link('#/eventbus', 'Event-bus streams', page === 'eventbus')}
          <a href="/docs">API reference</a>
        </nav>
        {getToken() !== '' && <button type="button" onClick={() => { setToken(''); setAuth('login'); }}>Log out</button>}
      </header>
      <main id="main" tabIndex={-1}>
        {page === 'stream' && arg !== undefined ? <StreamPage key={arg} name={arg} /> : page === 'webhooks' ? <WebhooksPage selectedId={arg} /> : page === 'eventbus' ? <EventbusPage /> : <Overview />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
