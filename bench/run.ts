/** `npm run bench -- <name>`: runs one benchmark program from bench/. */
import { readdirSync } from 'node:fs';
import { benchDir } from './lib.js';

const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace('.bench.ts', ''))
  .sort();
const names = process.argv.slice(2);
if (names.length === 0 || names.some((n) => !available.includes(n))) {
  console.error(`usage: npm run bench -- <name> [<name> …]\navailable: ${available.join(', ')}`);
  process.exit(2);
}
for (const name of names) await import(`./${name}.bench.ts`);
