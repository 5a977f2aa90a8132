// The query handed to NeDB: our MongoDB-semantics predicate under `$where`, plus "hints" that let
// NeDB pick candidates from an index. A hint is only a condition on which NeDB's matcher is at
// least as permissive as MongoDB's (equality with a non-null primitive or Date, $in of those,
// one number/Date bound), so hints never drop a document the predicate would accept.
import { compileFilter, type Predicate } from './match.ts';
import { isPlainObject } from '../validate.ts';
import type { StoredDoc } from './values.ts';

export type NedbQuery = Record<string, unknown>;

function isHintValue(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || value instanceof Date;
}

/** NeDB compares strings by UTF-16 units where MongoDB uses code points: no string range hints. */
function isRangeHintValue(value: unknown): boolean {
  return typeof value === 'number' || value instanceof Date;
}

/** Expects a checked filter in stored form. */
export function toNedbQuery(filter: StoredDoc): NedbQuery {
  const predicate: Predicate = compileFilter(filter);
  const query: NedbQuery = {
    $where(this: StoredDoc): boolean {
      return predicate(this);
    },
  };
  for (const path in filter) {
    if (path.charCodeAt(0) === 0x24) continue;
    const hint = hintFor(filter[path]);
    if (hint !== undefined) query[path] = hint;
  }
  return query;
}

function hintFor(condition: unknown): unknown {
  if (isHintValue(condition)) return condition;
  if (!isPlainObject(condition)) return undefined;
  const eq = condition['$eq'];
  if (isHintValue(eq)) return eq;
  const list = condition['$in'];
  if (Array.isArray(list) && list.every(isHintValue)) return { $in: list };
  // One bound only: NeDB applies several operators to each array element jointly, where MongoDB
  // lets each be met by a different element.
  for (const op of ['$gt', '$gte', '$lt', '$lte']) {
    const bound = condition[op];
    if (isRangeHintValue(bound)) return { [op]: bound };
  }
  return undefined;
}
