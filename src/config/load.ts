import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { configSchema, type HeraldConfig } from './schema.js';
import {
  configOptions,
  configUnions,
  describeExpected,
  ENV_PREFIX,
  knownKeys,
  schemaAt,
  unionDiscriminator,
  type ConfigOption,
  type ConfigUnion,
} from './options.js';
import { closest } from './suggest.js';

/**
 * Loading the config: defaults < file (YAML or JSON) < environment (`HERALD_*`) < command-line
 * flags. Every value is validated by the schema; every problem is reported at once, naming the
 * key, the value given, what was expected and where the value came from.
 */

/** Where a value came from, for error messages. */
export type ConfigSource =
  | { kind: 'file'; file: string; line?: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string };

export interface ConfigIssue {
  /** Dotted key with array indexes: `auth.tokens[0].token` (empty for the file as a whole). */
  key: string;
  path: (string | number)[];
  /** What is wrong, without the key: `expected a whole number from 0 to 65535, got "abc"`. */
  problem: string;
  source?: ConfigSource;
}

/** The config could not be loaded; `message` lists every problem, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

/** `config error: http.port: expected …, got "abc" (from HERALD_HTTP_PORT)`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.source ? ` (${describeSource(issue.source)})` : '';
  return `config error: ${issue.key ? `${issue.key}: ` : ''}${issue.problem}${where}`;
}

export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'file':
      return `in ${source.file}${source.line !== undefined ? ` line ${source.line}` : ''}`;
    case 'env':
      return `from ${source.name}`;
    case 'flag':
      return `from ${source.name}`;
  }
}

/** A nested partial config; string values of non-string options are coerced like env values. */
export type ConfigOverrides = Record<string, unknown>;

export interface LoadConfigOptions {
  /** A YAML or JSON config file. */
  file?: string;
  /** The environment to read `HERALD_*` overrides from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Highest precedence: values from command-line flags, nested (`{ http: { port: 0 } }`). */
  overrides?: ConfigOverrides;
  /** The flag each override key came from (`{ 'http.port': '--port' }`), for messages. */
  overrideSources?: Record<string, string>;
  /** Called with non-fatal findings, e.g. an unknown `HERALD_*` variable. */
  onWarning?: (message: string) => void;
}

/** Environment variables the CLI reads that are not config options. */
export const CLIENT_ENV = ['HERALD_URL', 'HERALD_TOKEN', 'HERALD_CONFIG'];

type Path = (string | number)[];
type Obj = Record<string, unknown>;

interface Layer {
  value: Obj;
  /** The leaves this layer set, with the raw text given (env and flags). */
  entries: { path: Path; source: ConfigSource; raw?: string }[];
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function getIn(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function setIn(target: Obj, path: readonly string[], value: unknown): void {
  let current = target;
  for (const segment of path.slice(0, -1)) {
    if (!isObj(current[segment])) current[segment] = {};
    current = current[segment] as Obj;
  }
  current[path[path.length - 1]!] = value;
}

/** `['auth', 'tokens', 0, 'token']` → `auth.tokens[0].token`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

const startsWith = (path: Path, prefix: Path): boolean => prefix.length <= path.length && prefix.every((s, i) => s === path[i]);

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

type Coerced = { ok: true; value: unknown } | { ok: false; problem: string };

/** Turns the text of an env var or flag into the option's type. */
export function coerceOption(option: ConfigOption, raw: string): Coerced {
  const expected = describeExpected(option.schema);
  switch (option.type) {
    case 'integer':
    case 'number': {
      const text = raw.trim();
      const value = text === '' ? Number.NaN : Number(text);
      return Number.isFinite(value) ? { ok: true, value } : { ok: false, problem: `expected ${expected}, got ${show(raw)}` };
    }
    case 'boolean': {
      const text = raw.trim().toLowerCase();
      if (text === 'true' || text === '1') return { ok: true, value: true };
      if (text === 'false' || text === '0') return { ok: true, value: false };
      return { ok: false, problem: `expected true or false (or 1 or 0), got ${show(raw)}` };
    }
    case 'array':
    case 'object': {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        return { ok: false, problem: `expected ${expected} in JSON, got ${show(raw)} (${(err as Error).message})` };
      }
      const fits = option.type === 'array' ? Array.isArray(value) : isObj(value);
      return fits ? { ok: true, value } : { ok: false, problem: `expected ${expected} in JSON, got ${show(raw)}` };
    }
    case 'string':
      return { ok: true, value: raw };
  }
}

interface FileLayer extends Layer {
  lineOf(path: Path): number | undefined;
}

function readFileLayer(file: string, issues: ConfigIssue[]): FileLayer | undefined {
  const empty = (): FileLayer => ({ value: {}, entries: [], lineOf: () => undefined });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    issues.push({ key: '', path: [], problem: `cannot read config file ${file}: ${reason}` });
    return undefined;
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      issues.push({ key: '', path: [], problem: `cannot parse ${file} (line ${line}, column ${col}): ${error.message.split('\n')[0]}` });
    }
    return undefined;
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return empty();
  if (!isObj(value)) {
    issues.push({ key: '', path: [], problem: `${file} must hold a mapping of options (like "http: {port: 8000}"), got ${show(value)}` });
    return undefined;
  }
  // Relative directories in a file are relative to the file, not to where herald was started.
  const storePath = getIn(value, ['store', 'path']);
  if (typeof storePath === 'string' && storePath !== '' && !isAbsolute(storePath)) setIn(value, ['store', 'path'], resolve(dirname(file), storePath));
  lenientFileValues(value);
  const lineOf = (path: Path): number | undefined => {
    let node: unknown = doc.contents;
    let offset: number | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
        if (!pair) break;
        offset = (pair.key as YamlNode | null)?.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as YamlNode | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else break;
    }
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  return { value, entries: [{ path: [], source: { kind: 'file', file } }], lineOf };
}

/** `pretty: true` in YAML is a boolean; the option takes the strings "true"/"false"/"auto". */
function lenientFileValues(value: Obj): void {
  for (const option of configOptions()) {
    const given = getIn(value, option.path);
    if ((typeof given === 'boolean' || typeof given === 'number') && option.schema.enum?.includes(String(given))) setIn(value, option.path, String(given));
  }
}

function readEnvLayer(env: Record<string, string | undefined>, issues: ConfigIssue[], onWarning: (message: string) => void): Layer {
  const layer: Layer = { value: {}, entries: [] };
  const known = new Set<string>(CLIENT_ENV);
  for (const option of configOptions()) {
    known.add(option.env);
    const raw = env[option.env];
    if (raw === undefined || raw === '') continue;
    const source: ConfigSource = { kind: 'env', name: option.env };
    const coerced = coerceOption(option, raw);
    if (!coerced.ok) {
      issues.push({ key: option.key, path: option.path, problem: coerced.problem, source });
      continue;
    }
    setIn(layer.value, option.path, coerced.value);
    layer.entries.push({ path: option.path, source, raw });
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || known.has(name)) continue;
    const suggestion = closest(name, configOptions().map((o) => o.env));
    onWarning(`${name} is not a Herald option and is ignored${suggestion ? `; did you mean ${suggestion}?` : ''}`);
  }
  return layer;
}

function readOverrideLayer(overrides: ConfigOverrides, sources: Record<string, string>, issues: ConfigIssue[]): Layer {
  const layer: Layer = { value: {}, entries: [] };
  const byKey = new Map(configOptions().map((o) => [o.key, o]));
  const visit = (value: unknown, path: string[]): void => {
    const key = path.join('.');
    const option = byKey.get(key);
    if (!option && isObj(value)) {
      for (const [name, child] of Object.entries(value)) if (child !== undefined) visit(child, [...path, ...name.split('.')]);
      return;
    }
    const source: ConfigSource = { kind: 'flag', name: sources[key] ?? `command-line option ${key}` };
    let result = value;
    if (option && typeof value === 'string' && option.type !== 'string') {
      const coerced = coerceOption(option, value);
      if (!coerced.ok) {
        issues.push({ key, path, problem: coerced.problem, source });
        return;
      }
      result = coerced.value;
    }
    setIn(layer.value, path, result);
    layer.entries.push({ path, source, ...(typeof value === 'string' ? { raw: value } : {}) });
  };
  visit(overrides, []);
  return layer;
}

function unionAt(path: Path): ConfigUnion | undefined {
  return configUnions().find((u) => u.path.length === path.length && u.path.every((s, i) => s === path[i]));
}

/** The variant an object of a union names, or the only one its keys fit, or the default. */
function inferVariant(union: ConfigUnion, value: Obj): string | undefined {
  const named = value[union.discriminator];
  if (typeof named === 'string') return named;
  const keys = Object.keys(value);
  const fitting = [...union.variants].filter(([, schema]) => keys.every((k) => k in (schema.properties ?? {})));
  if (fitting.length === 1) return fitting[0]![0];
  return union.defaultValue;
}

/** Deep merge; arrays and scalars are replaced; a union switched to another variant starts afresh. */
function mergeInto(target: Obj, source: Obj, path: string[]): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const childPath = [...path, key];
    const existing = target[key];
    if (isObj(value) && isObj(existing)) {
      const union = unionAt(childPath);
      if (union && typeof value[union.discriminator] === 'string' && value[union.discriminator] !== inferVariant(union, existing)) {
        target[key] = structuredClone(value);
      } else {
        mergeInto(existing, value, childPath);
      }
    } else {
      target[key] = isObj(value) || Array.isArray(value) ? structuredClone(value) : value;
    }
  }
}

function fillDiscriminators(merged: Obj): void {
  for (const union of configUnions()) {
    const value = getIn(merged, union.path);
    if (!isObj(value) || union.discriminator in value) continue;
    const variant = inferVariant(union, value);
    if (variant !== undefined) value[union.discriminator] = variant;
  }
}

/** Merges the layers (lowest first) into the input the schema validates. */
function mergeLayers(layers: Layer[]): Obj {
  const merged: Obj = {};
  for (const layer of layers) mergeInto(merged, layer.value, []);
  fillDiscriminators(merged);
  return merged;
}

function sourceOf(path: Path, layers: Layer[], fileLayer: FileLayer | undefined): { source?: ConfigSource; raw?: string } {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (layer === fileLayer) {
      if (getIn(layer.value, path.slice(0, 1)) === undefined && path.length > 0) continue;
      const base = layer.entries[0]!.source as Extract<ConfigSource, { kind: 'file' }>;
      const line = fileLayer.lineOf(path);
      return { source: { ...base, ...(line !== undefined ? { line } : {}) } };
    }
    const entry = layer.entries.find((e) => startsWith(path, e.path) || (path.length > 0 && startsWith(e.path, path)));
    if (entry) return { source: entry.source, ...(entry.raw !== undefined && startsWith(path, entry.path) && path.length === entry.path.length ? { raw: entry.raw } : {}) };
  }
  return {};
}

function toIssues(zodIssues: readonly z.core.$ZodIssue[], merged: Obj, layers: Layer[], fileLayer: FileLayer | undefined): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const withSource = (path: Path, problem: (got: string) => string): void => {
    const { source, raw } = sourceOf(path, layers, fileLayer);
    const value = getIn(merged, path);
    const got = raw !== undefined ? show(raw) : show(value);
    issues.push({ key: formatPath(path), path, problem: problem(got), ...(source ? { source } : {}) });
  };
  for (const issue of zodIssues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    switch (issue.code) {
      case 'unrecognized_keys': {
        const parent = schemaAt(path, merged, false);
        const parentValue = getIn(merged, path);
        for (const key of issue.keys) {
          const keyPath = [...path, key];
          const candidates = parent ? knownKeys(parent, parentValue) : [];
          const union = parent ? unionDiscriminator(parent) : undefined;
          const chosen = union && isObj(parentValue) ? parentValue[union.key] : undefined;
          const owners = union ? [...union.variants].filter(([, s]) => key in (s.properties ?? {})).map(([v]) => JSON.stringify(v)) : [];
          let problem: string;
          if (union && owners.length > 0) {
            problem = `not an option of ${formatPath([...path, union.key])} ${JSON.stringify(chosen)} (only of ${owners.join(', ')})`;
          } else {
            const suggestion = closest(key, candidates);
            problem = `unknown option${suggestion ? `; did you mean "${formatPath([...path, suggestion])}"?` : candidates.length > 0 ? `; valid here: ${candidates.join(', ')}` : ''}`;
          }
          withSource(keyPath, () => problem);
        }
        break;
      }
      case 'custom':
        withSource(path, () => issue.message);
        break;
      default: {
        // A check with a message of its own (a regex's explanation) says it best.
        if (issue.code === 'invalid_format' && !issue.message.startsWith('Invalid')) {
          withSource(path, (got) => `${issue.message}; got ${got}`);
          break;
        }
        const node = schemaAt(path, merged);
        const value = getIn(merged, path);
        if (!node) withSource(path, () => issue.message);
        else if (value === undefined) withSource(path, () => `missing; expected ${describeExpected(node)}`);
        else withSource(path, (got) => `expected ${describeExpected(node)}, got ${got}`);
      }
    }
  }
  return issues;
}

/** Tokens read from the environment must be set there. */
function checkTokenEnv(config: HeraldConfig, env: Record<string, string | undefined>, layers: Layer[], fileLayer: FileLayer | undefined): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.auth.tokens.forEach((token, i) => {
    if (token.tokenEnv === undefined || (env[token.tokenEnv] ?? '') !== '') return;
    const path = ['auth', 'tokens', i, 'tokenEnv'];
    const { source } = sourceOf(path, layers, fileLayer);
    issues.push({ key: formatPath(path), path, problem: `the environment variable ${token.tokenEnv} is not set (or empty)`, ...(source ? { source } : {}) });
  });
  return issues;
}

/**
 * Loads and validates the config: schema defaults, then the file, then `HERALD_*` environment
 * variables, then `overrides` (command-line flags). Throws a `ConfigError` listing every problem.
 */
export function loadConfig(options: LoadConfigOptions = {}): HeraldConfig {
  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const layers: Layer[] = [];
  let fileLayer: FileLayer | undefined;
  if (options.file !== undefined) {
    fileLayer = readFileLayer(options.file, issues);
    if (!fileLayer) throw new ConfigError(issues);
    layers.push(fileLayer);
  }
  layers.push(readEnvLayer(env, issues, options.onWarning ?? (() => {})));
  layers.push(readOverrideLayer(options.overrides ?? {}, options.overrideSources ?? {}, issues));
  const merged = mergeLayers(layers);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) issues.push(...toIssues(parsed.error.issues, merged, layers, fileLayer));
  if (issues.length > 0) throw new ConfigError(issues);
  const config = parsed.data!;
  const tokenIssues = checkTokenEnv(config, env, layers, fileLayer);
  if (tokenIssues.length > 0) throw new ConfigError(tokenIssues);
  return config;
}

/** A copy of a config safe to print: token and secret values become `***`, and so do passwords in URLs. */
export function redactConfig(config: HeraldConfig): HeraldConfig {
  const redact = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => redact(v));
    if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
    if (typeof value === 'string' && key !== undefined && (key === 'token' || /secret|password/i.test(key))) return '***';
    if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*:)[^/@\s]*@/i, '$1***@');
    return value;
  };
  return redact(config) as HeraldConfig;
}
