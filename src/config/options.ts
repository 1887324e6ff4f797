import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * The config schema seen as a list of options: one entry per leaf (`http.port`,
 * `store.path` …), each with its environment variable, JSON type, default and description.
 * Derived from the zod schema through its JSON Schema (input side), never listed by hand, so
 * the environment overrides, the generated docs and the error messages follow the schema.
 */

/** The part of JSON Schema that `z.toJSONSchema` emits for Herald's config. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
}

export type LeafType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';

/** One configurable value. */
export interface ConfigOption {
  /** Path segments: `['http', 'port']`. */
  path: string[];
  /** Dotted key: `http.port`. */
  key: string;
  /** `HERALD_HTTP_PORT`. */
  env: string;
  type: LeafType;
  /** The JSON Schema of the value (input side). */
  schema: JsonSchema;
  description: string;
  /** The default when the option is not given (undefined: none). */
  default: unknown;
  /** Set for options of one variant of a discriminated union (`store.path` is lmdb-only). */
  variant?: { key: string; value: string };
}

/** A discriminated union in the schema (`store`, told apart by `store.type`). */
export interface ConfigUnion {
  path: string[];
  discriminator: string;
  variants: Map<string, JsonSchema>;
  /** The discriminator value used when none is given and the keys do not tell. */
  defaultValue: string | undefined;
}

export const ENV_PREFIX = 'HERALD_';

let cachedJsonSchema: JsonSchema | undefined;

/** The config's JSON Schema (input side: defaults present, nothing required that has one). */
export function configJsonSchema(): JsonSchema {
  cachedJsonSchema ??= z.toJSONSchema(configSchema, { io: 'input' }) as unknown as JsonSchema;
  return cachedJsonSchema;
}

/** `bodyLimit` → `BODY_LIMIT`, `mapSizeGiB` → `MAP_SIZE_GIB`, `someURLPath` → `SOME_URL_PATH`. */
export function screamingSnake(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])(?=[A-Z][a-z]|[A-Z]{2,})/g, '$1_')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/** The environment variable of an option path: `['http', 'bodyLimit']` → `HERALD_HTTP_BODY_LIMIT`. */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map(screamingSnake).join('_');
}

/** The discriminator of a `oneOf` whose members are objects with a common `const` property. */
export function unionDiscriminator(node: JsonSchema): { key: string; variants: Map<string, JsonSchema> } | undefined {
  const members = node.oneOf ?? node.anyOf;
  if (!members || members.length === 0) return undefined;
  const first = members[0]!.properties ?? {};
  for (const key of Object.keys(first)) {
    const variants = new Map<string, JsonSchema>();
    for (const member of members) {
      const value = member.properties?.[key]?.const;
      if (typeof value !== 'string') break;
      variants.set(value, member);
    }
    if (variants.size === members.length) return { key, variants };
  }
  return undefined;
}

function leafType(node: JsonSchema): LeafType {
  if (node.type === 'integer' || node.type === 'number' || node.type === 'boolean' || node.type === 'array' || node.type === 'object') return node.type;
  if (node.type === 'string' || node.enum !== undefined || typeof node.const === 'string') return 'string';
  if (node.oneOf || node.anyOf) return 'object';
  return 'string';
}

interface Walked {
  options: ConfigOption[];
  unions: ConfigUnion[];
}

let cachedWalk: Walked | undefined;

function walk(): Walked {
  if (cachedWalk) return cachedWalk;
  const options: ConfigOption[] = [];
  const unions: ConfigUnion[] = [];
  const visit = (node: JsonSchema, path: string[], variant: ConfigOption['variant'], inheritedDefault: unknown): void => {
    const union = unionDiscriminator(node);
    if (union) {
      const defaultValue = (node.default as Record<string, unknown> | undefined)?.[union.key];
      unions.push({ path, discriminator: union.key, variants: union.variants, defaultValue: typeof defaultValue === 'string' ? defaultValue : undefined });
      const values = [...union.variants.keys()];
      const discPath = [...path, union.key];
      options.push({
        path: discPath,
        key: discPath.join('.'),
        env: envName(discPath),
        type: 'string',
        schema: { type: 'string', enum: values },
        description: [...union.variants].map(([value, member]) => `"${value}": ${member.properties?.[union.key]?.description ?? ''}`.trim()).join(' '),
        default: defaultValue,
      });
      const seen = new Set<string>([union.key]);
      for (const [value, member] of union.variants) {
        for (const [name, child] of Object.entries(member.properties ?? {})) {
          if (seen.has(name)) continue; // a name shared by variants is documented once, by the first
          seen.add(name);
          visit(child, [...path, name], { key: discPath.join('.'), value }, undefined);
        }
      }
      return;
    }
    if (node.type === 'object' && node.properties && path.length < 8) {
      for (const [name, child] of Object.entries(node.properties)) {
        const childDefault = (node.default as Record<string, unknown> | undefined)?.[name] ?? (inheritedDefault as Record<string, unknown> | undefined)?.[name];
        visit(child, [...path, name], variant, childDefault);
      }
      return;
    }
    const key = path.join('.');
    options.push({
      path,
      key,
      env: envName(path),
      type: leafType(node),
      schema: node,
      description: node.description ?? '',
      default: node.default ?? inheritedDefault,
      ...(variant ? { variant } : {}),
    });
  };
  visit(configJsonSchema(), [], undefined, undefined);
  const byEnv = new Map<string, string>();
  for (const option of options) {
    const clash = byEnv.get(option.env);
    if (clash) throw new Error(`config options ${clash} and ${option.key} both map to ${option.env}`);
    byEnv.set(option.env, option.key);
  }
  cachedWalk = { options, unions };
  return cachedWalk;
}

/** Every leaf option of the schema, in schema order. */
export function configOptions(): readonly ConfigOption[] {
  return walk().options;
}

/** The discriminated unions of the schema (`store`). */
export function configUnions(): readonly ConfigUnion[] {
  return walk().unions;
}

/** The option whose key is `key` (`http.port`). */
export function findOption(key: string): ConfigOption | undefined {
  return configOptions().find((o) => o.key === key);
}

/**
 * The JSON Schema node at a path of an actual config value, following array items and picking
 * the union variant the value names. `value` is the whole (merged) input.
 */
export function schemaAt(path: readonly (string | number)[], value: unknown, resolveLast = true): JsonSchema | undefined {
  let node: JsonSchema | undefined = configJsonSchema();
  let current: unknown = value;
  for (const segment of path) {
    if (!node) return undefined;
    node = resolveVariant(node, current);
    if (typeof segment === 'number' || node.type === 'array') {
      node = node.items;
    } else if (node.properties) {
      node = node.properties[segment];
    } else {
      node = unionProperty(node, segment);
    }
    current = current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
  }
  return node && resolveLast ? resolveVariant(node, current) : node;
}

/** A property of a union whose variant is unknown: the discriminator, or the first variant's. */
function unionProperty(node: JsonSchema, name: string): JsonSchema | undefined {
  const union = unionDiscriminator(node);
  if (!union) return undefined;
  if (name === union.key) return { type: 'string', enum: [...union.variants.keys()] };
  for (const member of union.variants.values()) if (member.properties?.[name]) return member.properties[name];
  return undefined;
}

/** For a union node, the variant `value` names (or the node itself when it names none). */
export function resolveVariant(node: JsonSchema, value: unknown): JsonSchema {
  const union = unionDiscriminator(node);
  if (!union || value === null || typeof value !== 'object') return node;
  const chosen = (value as Record<string, unknown>)[union.key];
  return (typeof chosen === 'string' && union.variants.get(chosen)) || node;
}

/** The names an object node accepts (for a union: the named variant's, or every variant's). */
export function knownKeys(node: JsonSchema, value: unknown): string[] {
  const resolved = resolveVariant(node, value);
  if (resolved.properties) return Object.keys(resolved.properties);
  const members = node.oneOf ?? node.anyOf ?? [];
  return [...new Set(members.flatMap((m) => Object.keys(m.properties ?? {})))];
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function quote(value: unknown): string {
  return JSON.stringify(value);
}

/** What a schema node accepts, in words: "a whole number from 0 to 65535". */
export function describeExpected(node: JsonSchema): string {
  if (node.const !== undefined) return quote(node.const);
  if (node.enum) return node.enum.length === 1 ? quote(node.enum[0]) : `one of ${node.enum.map(quote).join(', ')}`;
  const union = unionDiscriminator(node);
  if (union) return `an object with ${union.key} ${[...union.variants.keys()].map(quote).join(' or ')}`;
  switch (node.type) {
    case 'boolean':
      return 'true or false';
    case 'integer':
    case 'number': {
      const noun = node.type === 'integer' ? 'whole number' : 'number';
      const min = node.minimum;
      const max = node.maximum !== undefined && node.maximum < MAX_SAFE ? node.maximum : undefined;
      const exMin = node.exclusiveMinimum;
      if (min !== undefined && max !== undefined) return `a ${noun} from ${min} to ${max}`;
      if (exMin === 0 && max === undefined) return `a positive ${noun}`;
      if (min === 0 && max === undefined) return `a ${noun}, 0 or more`;
      if (min !== undefined) return `a ${noun}, ${min} or more`;
      if (exMin !== undefined) return `a ${noun} greater than ${exMin}`;
      if (max !== undefined) return `a ${noun}, ${max} or less`;
      return `a ${noun}`;
    }
    case 'string':
      if (node.pattern) return `a string matching /${node.pattern}/`;
      if (node.minLength === 1) return 'a non-empty string';
      if (node.minLength !== undefined && node.minLength > 1) return `a string of at least ${node.minLength} characters`;
      return 'a string';
    case 'array':
      if (node.minItems !== undefined && node.minItems > 0) return `a list of at least ${node.minItems}`;
      return 'a list';
    case 'object':
      return 'an object';
    default:
      return 'a value';
  }
}

/** A short type for the docs table: `integer 0–65535`, `"info" | "debug"`. */
export function describeType(node: JsonSchema): string {
  if (node.enum) return node.enum.map(quote).join(' | ');
  switch (node.type) {
    case 'integer':
    case 'number': {
      const noun = node.type;
      const max = node.maximum !== undefined && node.maximum < MAX_SAFE ? node.maximum : undefined;
      if (node.minimum !== undefined && max !== undefined) return `${noun} ${node.minimum}–${max}`;
      if (node.exclusiveMinimum !== undefined) return `${noun} > ${node.exclusiveMinimum}`;
      if (node.minimum !== undefined) return `${noun} ≥ ${node.minimum}`;
      return noun;
    }
    case 'array':
      return node.items?.type === 'object' ? 'list of objects' : `list of ${node.items?.type ?? 'values'}`;
    default:
      return node.type ?? 'value';
  }
}
