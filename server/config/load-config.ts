// Configuration is read once at start: YAML, then environment overrides, then validation
// against the core schema plus each module's own section; the result is deep-frozen.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { coreConfigSchema, type CoreConfig } from './schema.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[], readonly source?: string) {
    super(`invalid configuration${source ? ` in ${source}` : ''}:\n  ${problems.join('\n  ')}`);
  }
}

/** A module's configuration section: `modules.<name>` in chorus.yaml. */
export interface ModuleConfigSpec {
  name: string;
  config?: z.ZodType;
}

export type Config = CoreConfig & { modules: Readonly<Record<string, unknown>> };

/** The full schema: the core keys plus `modules`, whose keys are exactly the known modules. */
export function configSchema(modules: readonly ModuleConfigSpec[]) {
  const sections: Record<string, z.ZodType> = {};
  for (const m of modules) {
    // `false` disables a module; otherwise its section is validated by its own schema.
    const own = m.config ?? z.strictObject({});
    sections[m.name] = z.union([z.literal(false), own]).prefault({}).describe(`Module ${m.name}; false disables it`);
  }
  return coreConfigSchema.extend({
    modules: z.strictObject(sections).prefault({}).describe('Per-module settings; a module set to false is not loaded'),
  });
}

/** Environment variables override the keys container deployments most often set. */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  if (env.CHORUS_DATA_DIR) out.dataDir = env.CHORUS_DATA_DIR;
  if (env.CHORUS_LOG_LEVEL) out.log = { ...asRecord(out.log), level: env.CHORUS_LOG_LEVEL };
  if (env.CHORUS_MONGODB_URI) {
    const prev = asRecord(out.storage);
    out.storage = { kind: 'mongodb', uri: env.CHORUS_MONGODB_URI, ...(prev.kind === 'mongodb' && prev.database ? { database: prev.database } : {}) };
  }
  if (env.CHORUS_HOSTS) {
    out.hosts = env.CHORUS_HOSTS.split(',').map((d) => d.trim()).filter(Boolean).map((domain) => ({ domain }));
  }
  return out;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Validate an already-parsed configuration object. Throws ConfigError naming each key path. */
export function validateConfig(raw: unknown, modules: readonly ModuleConfigSpec[], source?: string): Config {
  const result = configSchema(modules).safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(result.error.issues.map(describeIssue), source);
  }
  const config = result.data as Config;
  checkCrossFieldRules(config, source);
  return deepFreeze(config);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return `${path === '(top level)' ? '' : path + '.'}${issue.keys.join(', ')}: unknown key${issue.keys.length > 1 ? 's' : ''}`;
  }
  return `${path}: ${issue.message}`;
}

function checkCrossFieldRules(config: Config, source?: string): void {
  const problems: string[] = [];
  const domains = new Set<string>();
  config.hosts.forEach((h, i) => {
    if (domains.has(h.domain)) problems.push(`hosts.${i}.domain: "${h.domain}" is listed twice`);
    domains.add(h.domain);
  });
  const bound = new Map<string, number>();
  config.listeners.forEach((l, i) => {
    const key = `${l.address ?? '*'}:${l.port}`;
    if (l.port !== 0 && bound.has(key)) problems.push(`listeners.${i}: ${key} is already used by listeners.${bound.get(key)}`);
    bound.set(key, i);
  });
  if (problems.length) throw new ConfigError(problems, source);
}

export async function loadConfigFile(path: string, modules: readonly ModuleConfigSpec[], env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read the file: ${(err as Error).message}`], path);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    const msg = err instanceof YAMLParseError ? err.message.split('\n')[0]! : (err as Error).message;
    throw new ConfigError([`not valid YAML: ${msg}`], path);
  }
  if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(['(top level): expected a mapping of keys to values'], path);
  }
  return validateConfig(applyEnvOverrides((raw ?? {}) as Record<string, unknown>, env), modules, path);
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
