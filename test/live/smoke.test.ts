import { it, expect } from 'vitest';
import { startServer } from '/work/main/test/http/helpers.js';
it('smoke', async () => {
  const s = await startServer();
  await s.request('/streams/a/events', { method: 'POST', body: '{"x":1}', headers: { 'content-type': 'application/json' } });
  const res = await fetch(s.url + '/streams/a/sse?after=0');
  console.log(res.status, [...res.headers]);
  const reader = res.body!.getReader();
  await s.request('/streams/a/events', { method: 'POST', body: 'line1\nline2', headers: { 'content-type': 'text/plain' } });
  let text = '';
  while (!text.includes('line2')) { const { value } = await reader.read(); text += Buffer.from(value!).toString(); }
  console.log(JSON.stringify(text));
  await reader.cancel();
  await s.close();
});
