// Builds the dashboard into web/dist: one minified, content-hashed script and stylesheet
// (esbuild, preact), index.html pointing at them, and .br/.gz siblings of every file so the
// HTTP listener can send them compressed without compressing per request. No network.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const dist = `${root}dist`;

/**
 * Builds into a fresh directory and swaps it in with renames, so a server (or a parallel test
 * file) reading web/dist never sees half a build.
 */
export async function buildWeb({ quiet = false } = {}) {
  const out = `${dist}.tmp-${process.pid}-${Date.now()}/`;
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [`${root}src/main.tsx`],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: out,
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => p.slice(p.lastIndexOf('/') + 1));
  const js = outputs.find((n) => n.endsWith('.js'));
  const css = outputs.find((n) => n.endsWith('.css'));
  const html = readFileSync(`${root}index.html`, 'utf8').replace('__JS__', `./${js}`).replace('__CSS__', `./${css}`);
  writeFileSync(`${out}index.html`, html);
  const sizes = {};
  for (const name of readdirSync(out)) {
    const body = readFileSync(out + name);
    const gz = gzipSync(body, { level: 9 });
    writeFileSync(`${out}${name}.gz`, gz);
    writeFileSync(`${out}${name}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    sizes[name] = { bytes: body.length, gzip: gz.length };
  }
  const old = `${dist}.old-${process.pid}-${Date.now()}`;
  try {
    renameSync(dist, old);
  } catch {
    /* no previous build */
  }
  renameSync(out, dist);
  rmSync(old, { recursive: true, force: true });
  if (!quiet) for (const [name, s] of Object.entries(sizes)) console.log(`web/dist/${name}: ${s.bytes} B, ${s.gzip} B gzipped`);
  return sizes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWeb();
