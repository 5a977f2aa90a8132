// The document an upsert starts from when nothing matches (MongoDB semantics): the filter's
// equality conditions, implicit or `$eq`, at top level and inside `$and`, dotted paths expanded
// into subdocuments. Other conditions ($gt, $in, $or, ...) contribute nothing.
import { StorageUsageError } from './port.ts';
import { PathSet, isPlainObject } from './validate.ts';

/** Expects a filter that passed checkFilter and checkUpsertFilter. */
export function upsertSeed(filter: Record<string, unknown>): Record<string, unknown> {
  const seed: Record<string, unknown> = {};
  collect(filter, seed, new PathSet('upsert filter equality'));
  const id = seed['_id'];
  if (id !== undefined && (typeof id !== 'string' || id.length === 0)) throw new StorageUsageError('upsert filter: _id must be a non-empty string');
  return seed;
}

function collect(filter: Record<string, unknown>, seed: Record<string, unknown>, seen: PathSet): void {
  for (const key in filter) {
    const value = filter[key];
    if (key === '$and') {
      for (const clause of value as Record<string, unknown>[]) collect(clause, seed, seen);
    } else if (key.charCodeAt(0) === 0x24 /* $or */) {
      continue;
    } else if (isPlainObject(value)) {
      if (Object.hasOwn(value, '$eq')) place(seed, key, value['$eq'], seen);
    } else {
      place(seed, key, value, seen);
    }
  }
}

function place(seed: Record<string, unknown>, path: string, value: unknown, seen: PathSet): void {
  seen.add(path);
  const parts = path.split('.');
  let node = seed;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const child = node[part];
    if (isPlainObject(child)) {
      node = child;
    } else {
      const created: Record<string, unknown> = {};
      node[part] = created;
      node = created;
    }
  }
  node[parts[parts.length - 1]!] = value;
}
