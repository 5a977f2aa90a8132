// MongoDB query semantics for the port's filter operators, compiled once per query into a
// predicate over stored documents. NeDB's own matcher differs from MongoDB's in ways that matter
// ($ne/$nin on arrays, null against missing fields, $exists on empty arrays, null < Date), so the
// embedded adapter hands NeDB this predicate through `$where` and only uses NeDB to pick
// candidates from its indexes.
import { rangeCompare, scalarEquals, isDocument, type StoredDoc } from './values.ts';
import { isPlainObject } from '../validate.ts';

export type Predicate = (doc: StoredDoc) => boolean;
/** A test on one value a path resolves to; MISSING when the path does not exist there. */
type ValueTest = (value: unknown) => boolean;

const MISSING: unique symbol = Symbol('missing');

/** Expects a checked filter whose values are in stored form. */
export function compileFilter(filter: StoredDoc): Predicate {
  const tests: Predicate[] = [];
  for (const key in filter) {
    const arg = filter[key];
    if (key === '$and') {
      const clauses = (arg as StoredDoc[]).map(compileFilter);
      tests.push((doc) => clauses.every((clause) => clause(doc)));
    } else if (key === '$or') {
      const clauses = (arg as StoredDoc[]).map(compileFilter);
      tests.push((doc) => clauses.some((clause) => clause(doc)));
    } else {
      tests.push(compileField(key.split('.'), arg));
    }
  }
  return all(tests);
}

function all(tests: Predicate[]): Predicate {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (doc) => {
    for (const test of tests) if (!test(doc)) return false;
    return true;
  };
}

function isOperatorObject(value: unknown): value is StoredDoc {
  if (!isPlainObject(value)) return false;
  for (const key in value) return key.charCodeAt(0) === 0x24 /* $ */;
  return false;
}

function compileField(path: string[], condition: unknown): Predicate {
  if (!isOperatorObject(condition)) return positive(path, equalityTest(condition));
  const tests: Predicate[] = [];
  for (const op in condition) tests.push(compileOperator(path, op, condition[op]));
  return all(tests);
}

/** True when some value at the path passes: MongoDB's "any element" reading of paths through arrays. */
function positive(path: string[], test: ValueTest): Predicate {
  return (doc) => someValue(doc, path, 0, test);
}
function negative(path: string[], test: ValueTest): Predicate {
  return (doc) => !someValue(doc, path, 0, test);
}

function compileOperator(path: string[], op: string, arg: unknown): Predicate {
  switch (op) {
    case '$eq': return positive(path, equalityTest(arg));
    // $ne and $nin are the negation of the whole match (MongoDB): no element may equal.
    case '$ne': return negative(path, equalityTest(arg));
    case '$in': return positive(path, membershipTest(arg as unknown[]));
    case '$nin': return negative(path, membershipTest(arg as unknown[]));
    case '$exists': return arg ? positive(path, exists) : negative(path, exists);
    default: return positive(path, valueTest(op, arg));
  }
}

/** Tests that read a value as it is (also used on array elements by $elemMatch and $pull). */
function valueTest(op: string, arg: unknown): ValueTest {
  switch (op) {
    case '$eq': return equalityTest(arg);
    case '$ne': { const eq = equalityTest(arg); return (v) => !eq(v); }
    case '$in': return membershipTest(arg as unknown[]);
    case '$nin': { const member = membershipTest(arg as unknown[]); return (v) => !member(v); }
    case '$exists': return arg ? exists : (v) => !exists(v);
    case '$gt': return rangeTest(arg as number | string | Date, (c) => c > 0);
    case '$gte': return rangeTest(arg as number | string | Date, (c) => c >= 0);
    case '$lt': return rangeTest(arg as number | string | Date, (c) => c < 0);
    case '$lte': return rangeTest(arg as number | string | Date, (c) => c <= 0);
    case '$size': return (v) => Array.isArray(v) && v.length === arg;
    case '$elemMatch': { const element = compileElementTest(arg as StoredDoc); return (v) => Array.isArray(v) && v.some(element); }
    default: throw new Error(`unchecked filter operator ${op}`);
  }
}

const exists: ValueTest = (v) => v !== MISSING;

/** Equality also matches an array holding the value; null also matches a missing field. */
function equalityTest(wanted: unknown): ValueTest {
  if (wanted === null) return (v) => v === MISSING || v === null || (Array.isArray(v) && v.includes(null));
  if (typeof wanted !== 'object') return (v) => v === wanted || (Array.isArray(v) && v.includes(wanted));
  return (v) => scalarEquals(v, wanted) || (Array.isArray(v) && v.some((element) => scalarEquals(element, wanted)));
}

function membershipTest(list: unknown[]): ValueTest {
  // Primitive lists (the common case: ids, JIDs) are looked up in a Set.
  if (list.every((item) => typeof item !== 'object')) {
    const set = new Set(list);
    return (v) => set.has(v) || (Array.isArray(v) && v.some((element) => set.has(element)));
  }
  const tests = list.map(equalityTest);
  return (v) => tests.some((test) => test(v));
}

function rangeTest(wanted: number | string | Date, accept: (comparison: number) => boolean): ValueTest {
  const one = (v: unknown): boolean => {
    const c = rangeCompare(v, wanted);
    return c !== undefined && accept(c);
  };
  return (v) => one(v) || (Array.isArray(v) && v.some(one));
}

/**
 * An element condition ($elemMatch, $pull): operators applied to the element itself, or a query
 * on the element as a subdocument.
 */
export function compileElementTest(condition: StoredDoc): ValueTest {
  let operatorForm = false;
  for (const key in condition) {
    operatorForm = key.charCodeAt(0) === 0x24 && key !== '$and' && key !== '$or';
    break;
  }
  if (!operatorForm) {
    const query = compileFilter(condition);
    return (element) => isDocument(element) && query(element);
  }
  const tests: ValueTest[] = [];
  for (const op in condition) tests.push(valueTest(op, condition[op]));
  return (element) => tests.every((test) => test(element));
}

/** The `$pull` test for one array element. */
export function compilePullTest(condition: unknown): ValueTest {
  return isPlainObject(condition) ? compileElementTest(condition) : equalityTest(condition);
}

/**
 * Walks a dotted path and calls the test on each value it reaches. Arrays met before the last
 * segment fan out over their subdocuments; a value found at the end is tested as a whole (the
 * tests themselves look into arrays).
 */
function someValue(node: StoredDoc, path: string[], i: number, test: ValueTest): boolean {
  const field = path[i]!;
  if (!Object.hasOwn(node, field)) return test(MISSING);
  const child = node[field];
  if (i === path.length - 1) return test(child);
  if (Array.isArray(child)) {
    for (const element of child) if (isDocument(element) && someValue(element, path, i + 1, test)) return true;
    return false;
  }
  return isDocument(child) ? someValue(child, path, i + 1, test) : test(MISSING);
}
