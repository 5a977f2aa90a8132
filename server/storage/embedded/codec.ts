// Between caller values and the embedded store's stored form, and projections over stored docs.
import type { Projection } from '../port.ts';
import type { ProjectionMode } from '../validate.ts';
import { BINARY_KEY, isBinaryMarker, isDocument, type StoredDoc } from './values.ts';

/**
 * A stored-form copy of a checked value: binary becomes a marker, Dates are cloned (NeDB keeps
 * the Date objects it is given, so a caller changing one later would change the store), and
 * undefined properties are dropped.
 */
export function toStored(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Uint8Array) {
    return { [BINARY_KEY]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(toStored);
  const copy: StoredDoc = {};
  for (const key in value) {
    const field = (value as StoredDoc)[key];
    if (field !== undefined) copy[key] = toStored(field);
  }
  return copy;
}

/**
 * Turns a copy NeDB returned into caller values, in place: markers become Buffers and Dates are
 * cloned (NeDB's copies share Date objects with its cache).
 */
export function fromStoredInPlace(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (isBinaryMarker(value)) return Buffer.from(value[BINARY_KEY], 'base64');
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fromStoredInPlace(value[i]);
    return value;
  }
  const doc = value as StoredDoc;
  for (const key in doc) doc[key] = fromStoredInPlace(doc[key]);
  return doc;
}

/** A projection as a tree of path segments; `true` marks a listed path. */
type ProjectionTree = { [field: string]: ProjectionTree | true };

function projectionTree(projection: Projection): ProjectionTree {
  const tree: ProjectionTree = {};
  for (const path in projection) {
    if (path === '_id') continue;
    const parts = path.split('.');
    let node = tree;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]!];
      node = typeof next === 'object' ? next : (node[parts[i]!] = {});
    }
    node[parts[parts.length - 1]!] = true;
  }
  return tree;
}

/** MongoDB projection on a document (a copy the caller owns); paths into arrays apply to each subdocument. */
export function project(doc: StoredDoc, projection: Projection, mode: ProjectionMode): StoredDoc {
  const idFlag = projection['_id'];
  const keepId = idFlag === undefined || idFlag === 1 || idFlag === true;
  const tree = projectionTree(projection);
  if (mode === 'exclude') {
    exclude(doc, tree);
    if (!keepId) delete doc['_id'];
    return doc;
  }
  const result = include(doc, tree);
  return keepId ? { _id: doc['_id'], ...result } : result;
}

function include(source: StoredDoc, tree: ProjectionTree): StoredDoc {
  const result: StoredDoc = {};
  for (const field in tree) {
    if (!Object.hasOwn(source, field)) continue;
    const sub = tree[field]!;
    const value = source[field];
    if (sub === true) result[field] = value;
    else if (Array.isArray(value)) result[field] = value.filter(isDocument).map((element) => include(element, sub));
    else if (isDocument(value)) result[field] = include(value, sub);
  }
  return result;
}

function exclude(target: StoredDoc, tree: ProjectionTree): void {
  for (const field in tree) {
    if (!Object.hasOwn(target, field)) continue;
    const sub = tree[field]!;
    const value = target[field];
    if (sub === true) delete target[field];
    else if (Array.isArray(value)) for (const element of value) { if (isDocument(element)) exclude(element, sub); }
    else if (isDocument(value)) exclude(value, sub);
  }
}
