import { readFileSync, readdirSync } from 'node:fs';
const dir = process.argv[2], target = process.argv[3];
const f = readdirSync(dir).filter(x=>x.endsWith('.cpuprofile'))[0];
const p = JSON.parse(readFileSync(dir + '/' + f));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map(); let total = 0;
for (let i = 0; i < p.samples.length; i++) { dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0)); total += p.timeDeltas[i] ?? 0; }
const agg = new Map();
for (const [id, t] of dt) {
  const n = byId.get(id); if (n.callFrame.functionName !== target) continue;
  const chain = []; let cur = parent.get(id);
  for (let k = 0; k < 3 && cur !== undefined; k++) { const c = byId.get(cur).callFrame; chain.push(`${c.functionName}:${c.url.split('/').pop()}:${c.lineNumber}`); cur = parent.get(cur); }
  const key = chain.join(' < '); agg.set(key, (agg.get(key) ?? 0) + t);
}
for (const [k, v] of [...agg].sort((a,b)=>b[1]-a[1]).slice(0, 8)) console.log((v/total*100).toFixed(1), k);
