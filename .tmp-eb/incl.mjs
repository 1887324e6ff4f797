import { readFileSync, readdirSync } from 'node:fs';
const dir = process.argv[2];
const f = readdirSync(dir).filter(x=>x.endsWith('.cpuprofile'))[0];
const p = JSON.parse(readFileSync(dir + '/' + f));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map(); let total = 0;
for (let i = 0; i < p.samples.length; i++) { dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0)); total += p.timeDeltas[i] ?? 0; }
const names = process.argv.slice(3);
const incl = new Map(names.map(n => [n, 0]));
for (const [id, t] of dt) {
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur); const fn = n.callFrame.functionName;
    if (incl.has(fn) && !seen.has(fn)) { incl.set(fn, incl.get(fn) + t); seen.add(fn); }
  }
}
for (const [k, v] of incl) console.log((v / total * 100).toFixed(1).padStart(5), k);
