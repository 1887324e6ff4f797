import { configJsonSchema, configOptions, describeType, type ConfigOption, type JsonSchema } from './options.js';

/**
 * The options reference, rendered from the schema. docs/configuration.md holds it between the
 * markers below; `npm run docs:config` rewrites that part and a test fails when it is stale.
 */

export const DOCS_BEGIN = '<!-- BEGIN GENERATED: options table (npm run docs:config) -->';
export const DOCS_END = '<!-- END GENERATED -->';
export const DOCS_COMMAND = 'npm run docs:config';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\n/g, ' ');
const code = (text: string): string => '`' + text + '`';

function formatDefault(value: unknown): string {
  if (value === undefined) return '—';
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}

function row(key: string, type: string, def: string, env: string, description: string): string {
  return `| ${[key, type, def, env, description].map(cell).join(' | ')} |`;
}

function optionRow(option: ConfigOption): string {
  const only = option.variant ? ` (only with ${option.variant.key} ${code(option.variant.value)})` : '';
  const type = option.type === 'array' || option.type === 'object' ? `${describeType(option.schema)} (JSON in env)` : describeType(option.schema);
  return row(code(option.key), type, formatDefault(option.default), code(option.env), option.description + only);
}

/** Rows for the fields of list items that are objects (`auth.tokens[].scopes`). */
function itemRows(option: ConfigOption): string[] {
  const items: JsonSchema | undefined = option.schema.items;
  if (!items?.properties) return [];
  const required = new Set(items.required ?? []);
  return Object.entries(items.properties).map(([name, field]) =>
    row(code(`${option.key}[].${name}`), describeType(field), required.has(name) ? 'required' : '—', '—', field.description ?? ''),
  );
}

/** The options tables, one per top-level section, as Markdown. */
export function renderOptionsTable(): string {
  const sections = configJsonSchema().properties ?? {};
  const out: string[] = [];
  for (const [section, node] of Object.entries(sections)) {
    out.push(`### \`${section}\``, '', node.description ?? '', '');
    out.push('| Key | Type | Default | Environment | Description |', '|---|---|---|---|---|');
    for (const option of configOptions().filter((o) => o.path[0] === section)) {
      out.push(optionRow(option), ...itemRows(option));
    }
    out.push('');
  }
  return out.join('\n').trimEnd() + '\n';
}

/** `current` with its generated part replaced by the tables of today's schema. */
export function renderConfigDocs(current: string): string {
  const begin = current.indexOf(DOCS_BEGIN);
  const end = current.indexOf(DOCS_END);
  if (begin < 0 || end < begin) throw new Error(`docs/configuration.md lacks the markers ${DOCS_BEGIN} … ${DOCS_END}`);
  return current.slice(0, begin + DOCS_BEGIN.length) + '\n\n' + renderOptionsTable() + '\n' + current.slice(end);
}
