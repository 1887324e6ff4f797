/**
 * The reference page at /docs: the OpenAPI document rendered to plain HTML on the server (no
 * script, no CDN), grouped by the first path segment, each operation with its parameters and
 * its responses' schemas.
 */

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: unknown;
}
interface Operation {
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  security?: unknown[];
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderDocsPage(doc: OpenApiDocument): string {
  const groups = new Map<string, string[]>();
  const toc: string[] = [];
  for (const [path, item] of Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b))) {
    const group = path.split('/')[1] || '/';
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const anchor = `${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group)!.push(renderOperation(method, path, op, anchor));
      toc.push(`<li><a href="#${anchor}"><code>${method.toUpperCase()} ${escape(path)}</code></a></li>`);
    }
  }
  const sections = [...groups].map(([group, ops]) => `<section aria-labelledby="g-${escape(group)}"><h2 id="g-${escape(group)}">/${escape(group)}</h2>${ops.join('')}</section>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(doc.info.title)} reference</title><style>${STYLE}</style></head><body>
<header><h1>${escape(doc.info.title)} <small>${escape(doc.info.version)} · OpenAPI ${escape(doc.openapi)}</small></h1>
<p>${escape(doc.info.description ?? '')} The machine-readable document is <a href="/openapi.json">/openapi.json</a>; the dashboard is at <a href="/ui/">/ui/</a>.</p></header>
<nav aria-label="Operations"><ul>${toc.join('')}</ul></nav><main>${sections}</main></body></html>`;
}

function renderOperation(method: string, path: string, op: Operation, anchor: string): string {
  const params = (op.parameters ?? []).map((p) => `<tr><td><code>${escape(p.name)}</code></td><td>${escape(p.in)}</td><td>${p.required ? 'yes' : ''}</td><td>${escape(p.description ?? '')} <code>${escape(JSON.stringify(p.schema ?? {}))}</code></td></tr>`).join('');
  const responses = Object.entries(op.responses ?? {}).map(([status, r]) => {
    const content = Object.entries(r.content ?? {}).map(([type, c]) => `<details><summary>${escape(type)}</summary><pre>${escape(JSON.stringify(c.schema ?? {}, null, 2))}</pre></details>`).join('');
    return `<li><strong>${escape(status)}</strong> ${content}</li>`;
  }).join('');
  return `<article id="${anchor}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code>${op.security ? ' <span class="lock" title="needs a bearer token when tokens are configured">token</span>' : ''}</h3>
<p>${escape(op.summary ?? '')}</p>${op.description ? `<p class="d">${escape(op.description)}</p>` : ''}
${params ? `<table><caption>Parameters</caption><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th><th scope="col">Schema</th></tr></thead><tbody>${params}</tbody></table>` : ''}
<h4>Responses</h4><ul class="r">${responses}</ul></article>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1f24}
small{color:#57606a;font-weight:normal;font-size:.6em}code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.5rem;overflow:auto}
nav ul{columns:2;font-size:13px;padding-left:1rem}article{border-top:1px solid #d0d7de;padding:.5rem 0}
.m{display:inline-block;min-width:4.5em;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 4px}
.get{background:#0969da}.post{background:#1a7f37}.put{background:#9a6700}.patch{background:#8250df}.delete{background:#cf222e}
.lock{font-size:11px;border:1px solid #57606a;border-radius:4px;padding:0 4px;color:#57606a}.d{color:#424a53}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #d0d7de;padding:2px 6px;text-align:left}caption{text-align:left;font-weight:600}
a{color:#0969da}a:focus,summary:focus{outline:2px solid #0969da}`;
