// docs/configuration.md is generated from the schema, so the reference cannot drift from what
// the server accepts (test/unit/config/reference.test.ts compares the two).
import { z } from 'zod';
import { configSchema, type ModuleConfigSpec } from './load-config.ts';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  format?: string;
}

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

export function configReference(modules: readonly ModuleConfigSpec[]): string {
  const schema = z.toJSONSchema(configSchema(modules), { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: Row[] = [];
  walk(schema, '', rows);
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from server/config/schema.ts and the modules\' schemas by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Chorus reads one YAML file (`conf/chorus.yaml` by default, `--config FILE` or `CHORUS_CONFIG` otherwise).',
    'Unknown keys, wrong types and bad values stop the server with a message naming the key.',
    'Environment variables override: `CHORUS_DATA_DIR` (dataDir), `CHORUS_LOG_LEVEL` (log.level),',
    '`CHORUS_MONGODB_URI` (storage: kind mongodb with this uri), `CHORUS_HOSTS` (comma-separated domains).',
    '`conf/chorus.example.yaml` shows every key in context.',
    '',
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.key}\` | ${r.type} | ${r.default} | ${escapeCell(r.description)} |`),
    '',
  ];
  return lines.join('\n');
}

function walk(node: JsonSchema, path: string, rows: Row[], inheritedDescription?: string): void {
  const variants = node.oneOf ?? node.anyOf;
  if (variants && !node.properties) {
    const objects = variants.filter((v) => v.properties && Object.keys(v.properties).length > 0);
    if (objects.length === 0 && path) {
      rows.push({ key: path, type: variants.map(typeOf).join(' \\| '), default: '', description: node.description ?? '' });
      return;
    }
    if (objects.length > 0) {
      if (node.description && path) rows.push({ key: path, type: 'one of below', default: fmtDefault(node.default), description: node.description });
      for (const v of objects) {
        const discriminator = Object.entries(v.properties!).find(([, p]) => p.const !== undefined);
        const label = discriminator ? `${path}{${discriminator[0]}=${String(discriminator[1].const)}}` : path;
        walk({ ...v, description: undefined }, label, rows);
      }
      return;
    }
  }
  if (node.type === 'object' && node.properties) {
    if (path && node.description) rows.push({ key: path, type: 'mapping', default: fmtDefault(node.default), description: node.description });
    for (const [key, child] of Object.entries(node.properties)) {
      // A discriminator ('kind: embedded') is already named in the path.
      if (child.const !== undefined && path.endsWith(`{${key}=${String(child.const)}}`)) continue;
      walk(child, path ? `${path}.${key}` : key, rows);
    }
    return;
  }
  if (node.type === 'array' && node.items && (node.items.properties || node.items.oneOf)) {
    rows.push({ key: path, type: 'list', default: fmtDefault(node.default), description: node.description ?? inheritedDescription ?? '' });
    walk(node.items, `${path}[]`, rows);
    return;
  }
  rows.push({ key: path, type: typeOf(node), default: fmtDefault(node.default), description: node.description ?? inheritedDescription ?? '' });
}

function typeOf(node: JsonSchema): string {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const variants = node.oneOf ?? node.anyOf;
  if (variants) return variants.map(typeOf).join(' \\| ');
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`;
  if (node.type === 'integer') {
    const range = node.minimum !== undefined && node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER
      ? ` ${node.minimum}–${node.maximum}`
      : node.minimum !== undefined ? ` ≥ ${node.minimum}` : '';
    return `integer${range}`;
  }
  if (node.format === 'uri') return 'URL';
  if (node.type === 'object') return 'mapping';
  return Array.isArray(node.type) ? node.type.join(' \\| ') : (node.type ?? 'value');
}

function fmtDefault(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'object' && v !== null && Object.keys(v).length === 0) return '';
  return `\`${JSON.stringify(v)}\``;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
