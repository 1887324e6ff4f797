import { useState } from 'preact/hooks';
import { api, ApiError, setToken } from './api.js';

/** Shown alone while the server answers 401: nothing else of the dashboard is rendered. */
export function Login({ onLogin, message }: { onLogin: () => void; message: string | undefined }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | undefined>(message);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setToken(value.trim());
    try {
      await api('GET', '/streams');
      onLogin();
    } catch (err) {
      setToken('');
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  return (
    <main class="login">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="login-h">
        <h1 id="login-h">Herald</h1>
        <p>This server needs an access token.</p>
        <label for="token">Access token</label>
        <input id="token" type="password" autoComplete="current-password" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} required autoFocus />
        {error && <p role="alert">{error}</p>}
        <button type="submit">Log in</button>
      </form>
    </main>
  );
}
