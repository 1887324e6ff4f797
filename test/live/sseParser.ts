/** A Server-Sent Events parser written from the WHATWG specification, to check our framing. */
export function parseSse(text: string): { events: Array<{ id: string; event: string; data: string }>; lastId: string; retry?: number } {
  const events: Array<{ id: string; event: string; data: string }> = [];
  let lastId = '';
  let idBuffer = '';
  let data = '';
  let event = '';
  let retry: number | undefined;
  for (const line of text.split(/\r\n|\r|\n/).slice(0, -1)) {
    if (line === '') {
      lastId = idBuffer;
      if (data !== '') events.push({ id: lastId, event: event || 'message', data: data.endsWith('\n') ? data.slice(0, -1) : data });
      data = '';
      event = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data += `${value}\n`;
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) idBuffer = value;
    else if (field === 'retry' && /^[0-9]+$/.test(value)) retry = Number(value);
  }
  return { events, lastId, ...(retry !== undefined ? { retry } : {}) };
}
