// MongoDB update semantics for the port's update operators, applied in place to a stored-form
// copy. NeDB's modifiers differ from MongoDB's ($pull on a missing field throws, upserts drop
// dotted equality fields, no "modified" count), so the embedded adapter applies updates itself
// and hands NeDB the finished document.
import { StorageUsageError } from '../port.ts';
import { isPlainObject } from '../validate.ts';
import { compilePullTest } from './match.ts';
import { compareValues, deepEquals, isDocument, type StoredDoc } from './values.ts';

/**
 * Applies a checked update whose values are in stored form; returns whether the document changed.
 * `$setOnInsert` applies only when `inserting`. Throws StorageUsageError when an operator cannot
 * apply to the stored value (MongoDB refuses the same updates).
 */
export function applyUpdate(doc: StoredDoc, update: Record<string, StoredDoc>, inserting: boolean): boolean {
  let changed = false;
  for (const op in update) {
    if (op === '$setOnInsert' && !inserting) continue;
    const args = update[op]!;
    for (const path in args) {
      if (applyOne(doc, op, path, args[path])) changed = true;
    }
  }
  return changed;
}

function applyOne(doc: StoredDoc, op: string, path: string, arg: unknown): boolean {
  const parts = path.split('.');
  const field = parts.pop()!;

  if (op === '$unset' || op === '$pull') {
    // Neither creates anything: a missing path is a no-op.
    const parent = existingParent(doc, parts);
    if (!parent || !Object.hasOwn(parent, field)) return false;
    if (op === '$unset') {
      delete parent[field];
      return true;
    }
    const array = parent[field];
    if (!Array.isArray(array)) throw new StorageUsageError(`$pull ${path}: the stored value is not an array`);
    const remove = compilePullTest(arg);
    const kept = array.filter((element) => !remove(element));
    if (kept.length === array.length) return false;
    parent[field] = kept;
    return true;
  }

  const parent = parentFor(doc, parts, path);
  const present = Object.hasOwn(parent, field);
  const current = parent[field];
  switch (op) {
    case '$set':
    case '$setOnInsert':
      if (present && deepEquals(current, arg)) return false;
      parent[field] = arg;
      return true;
    case '$inc': {
      if (!present) {
        parent[field] = arg;
        return true;
      }
      if (typeof current !== 'number') throw new StorageUsageError(`$inc ${path}: the stored value is not a number`);
      if (arg === 0) return false;
      parent[field] = current + (arg as number);
      return true;
    }
    case '$min':
    case '$max': {
      const c = present ? compareValues(arg, current) : 0;
      if (present && (op === '$min' ? c >= 0 : c <= 0)) return false;
      parent[field] = arg;
      return true;
    }
    case '$push': {
      const array = present ? current : [];
      if (!Array.isArray(array)) throw new StorageUsageError(`$push ${path}: the stored value is not an array`);
      const modifiers = isPlainObject(arg) && Object.hasOwn(arg, '$each');
      const items = modifiers ? (arg['$each'] as unknown[]) : [arg];
      const slice = modifiers ? (arg['$slice'] as number | undefined) : undefined;
      const before = array.length;
      let next = items.length > 0 ? array.concat(items) : array;
      if (slice !== undefined) next = slice >= 0 ? next.slice(0, slice) : next.slice(slice);
      parent[field] = next;
      return !present || items.length > 0 || next.length !== before;
    }
    case '$addToSet': {
      const array = present ? current : [];
      if (!Array.isArray(array)) throw new StorageUsageError(`$addToSet ${path}: the stored value is not an array`);
      const items = isPlainObject(arg) && Object.hasOwn(arg, '$each') ? (arg['$each'] as unknown[]) : [arg];
      let added = false;
      for (const item of items) {
        if (!array.some((element) => deepEquals(element, item))) {
          array.push(item);
          added = true;
        }
      }
      parent[field] = array;
      return !present || added;
    }
    default:
      throw new Error(`unchecked update operator ${op}`);
  }
}

/** The subdocument holding the last path segment, creating missing ones (MongoDB's $set). */
function parentFor(doc: StoredDoc, parts: string[], path: string): StoredDoc {
  let node = doc;
  for (const part of parts) {
    if (!Object.hasOwn(node, part)) {
      const created: StoredDoc = {};
      node[part] = created;
      node = created;
      continue;
    }
    const child = node[part];
    // MongoDB: "Cannot create field ... in element" (PathNotViable).
    if (!isDocument(child)) throw new StorageUsageError(`${path}: ${part} holds a value that is not a subdocument`);
    node = child;
  }
  return node;
}

function existingParent(doc: StoredDoc, parts: string[]): StoredDoc | undefined {
  let node = doc;
  for (const part of parts) {
    const child = Object.hasOwn(node, part) ? node[part] : undefined;
    if (!isDocument(child)) return undefined;
    node = child;
  }
  return node;
}
