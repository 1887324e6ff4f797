import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** Calls `load` now and every `ms` while the page is shown; keeps the last value and error. */
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []): { data: T | undefined; error: string | undefined; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const tick = useRef<() => void>(() => {});
  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    const run = async (): Promise<void> => {
      window.clearTimeout(timer);
      try {
        const value = await load();
        if (!alive) return;
        setData(value);
        setError(undefined);
      } catch (err) {
        if (alive) setError(err instanceof ApiError ? `${err.status} ${err.code}: ${err.message}` : String(err));
      }
      if (alive) timer = window.setTimeout(run, ms);
    };
    tick.current = () => void run();
    void run();
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, deps);
  return { data, error, reload: () => tick.current() };
}
