// The one validator both adapters run every call through: it lets in only what port.ts lists,
// and only the argument shapes on which MongoDB and the embedded engine agree. Anything else is a
// StorageUsageError before any data is touched.
import {
  FILTER_OPERATORS, UPDATE_OPERATORS, StorageUsageError,
  type FindOneAndUpdateOptions, type FindOptions, type IndexDescription, type IndexKeys, type IndexOptions, type Projection,
} from './port.ts';

const UPDATE_OPS: ReadonlySet<string> = new Set(UPDATE_OPERATORS);
/** MongoDB refuses documents nested deeper than 100 levels; the limit also stops cycles. */
const MAX_DEPTH = 100;
const COLLECTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const ALL_DIGITS = /^[0-9]+$/;

function fail(message: string): never {
  throw new StorageUsageError(message);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** A value an equality test may compare against: no subdocuments or arrays (their equality is key-order sensitive in MongoDB). */
export function isScalar(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      return value === null || isValidDate(value) || value instanceof Uint8Array;
    default:
      return false;
  }
}

/** Range operands: both engines only compare numbers with numbers, strings with strings, dates with dates. */
export function isRangeValue(value: unknown): value is number | string | Date {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string' || isValidDate(value);
}

export function checkCollectionName(name: string): void {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    fail(`invalid collection name ${JSON.stringify(name)}: a letter, then up to 63 letters, digits, '_' or '-'`);
  }
}

function checkFieldName(name: string): void {
  if (name.length === 0) fail('empty field name');
  if (name.charCodeAt(0) === 0x24 /* $ */) fail(`field name ${JSON.stringify(name)} starts with '$'`);
  if (name.includes('.')) fail(`field name ${JSON.stringify(name)} contains '.'`);
  if (name.includes('\0')) fail('field name contains NUL');
  // Digits-only segments would address array positions in a path, where the engines differ.
  const first = name.charCodeAt(0);
  if (first >= 0x30 && first <= 0x39 && ALL_DIGITS.test(name)) fail(`field name ${JSON.stringify(name)} is only digits`);
  // Assigning it would replace a copy's prototype instead of setting a field.
  if (name === '__proto__') fail('field name __proto__');
}

/** A dotted path of field names. */
export function checkPath(path: string): void {
  if (typeof path !== 'string' || path.length === 0) fail('empty path');
  let start = 0;
  for (;;) {
    const dot = path.indexOf('.', start);
    checkFieldName(path.slice(start, dot === -1 ? path.length : dot));
    if (dot === -1) return;
    start = dot + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Documents and values

export function checkDocument(doc: unknown): void {
  if (!isPlainObject(doc)) fail('a document must be a plain object');
  const id = doc['_id'];
  if (id !== undefined && (typeof id !== 'string' || id.length === 0)) fail('_id must be a non-empty string');
  checkObjectFields(doc, 0);
}

/** A value that may be stored: scalars, arrays of values, plain objects. */
export function checkValue(value: unknown, depth = 0): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(`cannot store the number ${value}`);
      return;
    case 'object':
      if (value === null || value instanceof Uint8Array) return;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) fail('cannot store an invalid Date');
        return;
      }
      if (Array.isArray(value)) {
        if (depth >= MAX_DEPTH) fail(`values nest deeper than ${MAX_DEPTH} levels`);
        for (const element of value) {
          if (element === undefined) fail('an array holds undefined');
          checkValue(element, depth + 1);
        }
        return;
      }
      if (isPlainObject(value)) return checkObjectFields(value, depth + 1);
      fail(`cannot store a ${value.constructor?.name ?? 'non-plain object'}`);
    default:
      fail(`cannot store a value of type ${typeof value}`);
  }
}

function checkObjectFields(obj: Record<string, unknown>, depth: number): void {
  if (depth >= MAX_DEPTH) fail(`values nest deeper than ${MAX_DEPTH} levels`);
  for (const key in obj) {
    checkFieldName(key);
    const value = obj[key];
    if (value !== undefined) checkValue(value, depth);
  }
}

// ---------------------------------------------------------------------------------------------
// Filters

const NOT_LISTED = `; the storage port allows ${FILTER_OPERATORS.join(' ')}`;

export function checkFilter(filter: unknown): void {
  checkFilterObject(filter, 0);
}

function checkFilterObject(filter: unknown, depth: number): void {
  if (!isPlainObject(filter)) fail('a filter must be a plain object');
  if (depth >= MAX_DEPTH) fail(`filter nests deeper than ${MAX_DEPTH} levels`);
  for (const key in filter) {
    const value = filter[key];
    if (key.charCodeAt(0) === 0x24 /* $ */) {
      if (key !== '$and' && key !== '$or') fail(`filter operator ${key} is not allowed at this level${NOT_LISTED}`);
      if (!Array.isArray(value) || value.length === 0) fail(`${key} takes a non-empty array of filters`);
      for (const clause of value) checkFilterObject(clause, depth + 1);
    } else {
      checkPath(key);
      checkCondition(value, key, depth);
    }
  }
}

function checkCondition(condition: unknown, path: string, depth: number): void {
  if (isScalar(condition)) return;
  if (isPlainObject(condition)) {
    let operators = 0;
    let fields = 0;
    for (const key in condition) {
      if (key.charCodeAt(0) === 0x24) operators++;
      else fields++;
    }
    if (operators === 0) fail(`${path}: subdocument equality is not supported; compare its fields by dotted path`);
    if (fields > 0) fail(`${path}: operators and fields mixed in one condition`);
    for (const op in condition) checkFieldOperator(op, condition[op], path, depth);
    return;
  }
  if (condition === undefined) fail(`${path}: undefined in a filter`);
  if (Array.isArray(condition)) fail(`${path}: array equality is not supported`);
  if (condition instanceof RegExp) fail(`${path}: regular expressions are not supported${NOT_LISTED}`);
  fail(`${path}: unsupported value in a filter`);
}

function checkFieldOperator(op: string, arg: unknown, path: string, depth: number): void {
  switch (op) {
    case '$eq':
    case '$ne':
      if (!isScalar(arg)) fail(`${path}: ${op} takes a scalar`);
      return;
    case '$in':
    case '$nin':
      if (!Array.isArray(arg) || !arg.every(isScalar)) fail(`${path}: ${op} takes an array of scalars`);
      return;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (!isRangeValue(arg)) fail(`${path}: ${op} takes a number, a string or a Date`);
      return;
    case '$exists':
      if (typeof arg !== 'boolean') fail(`${path}: $exists takes true or false`);
      return;
    case '$size':
      if (!Number.isSafeInteger(arg) || (arg as number) < 0) fail(`${path}: $size takes a non-negative integer`);
      return;
    case '$elemMatch':
      checkElementCondition(arg, path, depth, '$elemMatch');
      return;
    default:
      fail(`${path}: filter operator ${op} is not supported${NOT_LISTED}`);
  }
}

/** `$elemMatch` and `$pull` conditions: operators on the element value, or a query on the element as a subdocument. */
function checkElementCondition(arg: unknown, path: string, depth: number, what: string): void {
  if (!isPlainObject(arg)) fail(`${path}: ${what} takes an object`);
  let operators = 0;
  let fields = 0;
  for (const key in arg) {
    if (key.charCodeAt(0) === 0x24 && key !== '$and' && key !== '$or') operators++;
    else fields++;
  }
  if (operators + fields === 0) fail(`${path}: empty ${what} condition`);
  if (operators > 0 && fields > 0) fail(`${path}: ${what} mixes operators and fields`);
  if (operators > 0) for (const op in arg) checkFieldOperator(op, arg[op], path, depth + 1);
  else checkFilterObject(arg, depth + 1);
}

/**
 * MongoDB folds a one-element `$in` or `$or` into an equality, which then seeds an upserted
 * document; refuse them in upsert filters rather than emulate that folding.
 */
export function checkUpsertFilter(filter: Record<string, unknown>): void {
  for (const key in filter) {
    const value = filter[key];
    if (key === '$or' && Array.isArray(value) && value.length === 1) fail('upsert filter: a one-clause $or; write the clause itself');
    if (key === '$and' && Array.isArray(value)) {
      for (const clause of value) checkUpsertFilter(clause as Record<string, unknown>);
    } else if (isPlainObject(value) && Array.isArray(value['$in']) && value['$in'].length === 1) {
      fail(`upsert filter: ${key}: a one-element $in; write an equality`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Updates

/** Rejects a path twice, or a path and its parent (MongoDB: "would create a conflict"). */
export class PathSet {
  private readonly full = new Set<string>();
  private readonly parents = new Set<string>();

  constructor(private readonly what: string) {}

  add(path: string): void {
    if (this.full.has(path) || this.parents.has(path)) fail(`${this.what} names ${path} twice`);
    for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', dot + 1)) {
      const parent = path.slice(0, dot);
      if (this.full.has(parent)) fail(`${this.what} names both ${parent} and ${path}`);
      this.parents.add(parent);
    }
    this.full.add(path);
  }
}

export function checkUpdate(update: unknown): void {
  if (!isPlainObject(update)) fail('an update must be a plain object');
  const paths = new PathSet('update');
  let operators = 0;
  for (const op in update) {
    if (op.charCodeAt(0) !== 0x24) fail('whole-document replacement is not supported; use $set');
    if (!UPDATE_OPS.has(op)) fail(`update operator ${op} is not supported; the storage port allows ${UPDATE_OPERATORS.join(' ')}`);
    const args = update[op];
    if (!isPlainObject(args)) fail(`${op} takes an object of paths`);
    for (const path in args) {
      checkPath(path);
      if (path === '_id' || path.startsWith('_id.')) fail('an update cannot change _id');
      paths.add(path);
      checkUpdateArgument(op, path, args[path]);
    }
    operators++;
  }
  if (operators === 0) fail('an update needs at least one operator');
}

function hasOperatorKey(obj: Record<string, unknown>): boolean {
  for (const key in obj) if (key.charCodeAt(0) === 0x24) return true;
  return false;
}

function checkUpdateArgument(op: string, path: string, arg: unknown): void {
  if (arg === undefined) fail(`${op} ${path}: undefined`);
  switch (op) {
    case '$set':
    case '$setOnInsert':
      checkValue(arg);
      return;
    case '$unset':
      return;
    case '$inc':
      if (typeof arg !== 'number' || !Number.isFinite(arg)) fail(`$inc ${path}: takes a number`);
      return;
    case '$min':
    case '$max':
      if (!isRangeValue(arg)) fail(`${op} ${path}: takes a number, a string or a Date`);
      return;
    case '$push':
    case '$addToSet':
      if (isPlainObject(arg) && hasOperatorKey(arg)) {
        for (const key in arg) {
          if (key !== '$each' && !(key === '$slice' && op === '$push')) fail(`${op} ${path}: modifier ${key} is not supported`);
        }
        const each = arg['$each'];
        if (!Array.isArray(each)) fail(`${op} ${path}: modifiers need $each with an array`);
        checkValue(each);
        const slice = arg['$slice'];
        if (slice !== undefined && !Number.isSafeInteger(slice)) fail(`$push ${path}: $slice takes an integer`);
        return;
      }
      checkValue(arg);
      return;
    case '$pull':
      if (isScalar(arg)) return;
      if (isPlainObject(arg)) return checkElementCondition(arg, path, 0, '$pull');
      fail(`$pull ${path}: takes a scalar or a condition`);
  }
}

// ---------------------------------------------------------------------------------------------
// Options

function checkSort(sort: unknown): void {
  if (!isPlainObject(sort)) fail('sort must be an object of paths');
  let keys = 0;
  for (const path in sort) {
    checkPath(path);
    if (sort[path] !== 1 && sort[path] !== -1) fail(`sort ${path}: direction must be 1 or -1`);
    keys++;
  }
  if (keys === 0) fail('empty sort');
}

function checkCount(value: unknown, what: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 0)) fail(`${what} must be a non-negative integer`);
}

export type ProjectionMode = 'include' | 'exclude';

/** Checks a projection and says whether it lists fields to keep or to drop. */
export function projectionMode(projection: Projection): ProjectionMode {
  if (!isPlainObject(projection)) fail('projection must be an object of paths');
  const paths = new PathSet('projection');
  let mode: ProjectionMode | undefined;
  for (const path in projection) {
    checkPath(path);
    const flag = projection[path];
    if (flag !== 0 && flag !== 1 && flag !== true && flag !== false) fail(`projection ${path}: must be 0 or 1`);
    if (path === '_id') continue;
    if (path.startsWith('_id.')) fail('projection cannot reach inside _id');
    paths.add(path);
    const pathMode: ProjectionMode = flag === 1 || flag === true ? 'include' : 'exclude';
    if (mode && mode !== pathMode) fail('a projection either includes or excludes fields (except _id)');
    mode = pathMode;
  }
  if (mode) return mode;
  // Only _id: `{ _id: 1 }` keeps just the id, `{ _id: 0 }` drops it; `{}` keeps everything.
  const id = projection['_id'];
  return id === 1 || id === true ? 'include' : 'exclude';
}

export function checkFindOptions(options: FindOptions | undefined): void {
  if (options === undefined) return;
  if (options.sort !== undefined) checkSort(options.sort);
  if (options.projection !== undefined) projectionMode(options.projection);
  checkCount(options.limit, 'limit');
  checkCount(options.skip, 'skip');
}

export function checkFindOneAndUpdateOptions(options: FindOneAndUpdateOptions | undefined): void {
  if (options === undefined) return;
  checkFindOptions({ sort: options.sort, projection: options.projection });
  const r = options.returnDocument;
  if (r !== undefined && r !== 'before' && r !== 'after') fail("returnDocument must be 'before' or 'after'");
}

// ---------------------------------------------------------------------------------------------
// Indexes

/** MongoDB's default index name, so both adapters name indexes alike. */
export function defaultIndexName(keys: IndexKeys): string {
  return Object.entries(keys).map(([path, direction]) => `${path}_${direction}`).join('_');
}

/** Checks an index request and returns its full description. */
export function checkIndex(keys: IndexKeys, options: IndexOptions = {}): IndexDescription {
  if (!isPlainObject(keys)) fail('index keys must be an object of paths');
  const paths = Object.keys(keys);
  if (paths.length === 0) fail('an index needs at least one key');
  for (const path of paths) {
    checkPath(path);
    if (keys[path] !== 1 && keys[path] !== -1) fail(`index ${path}: direction must be 1 or -1`);
  }
  if (paths.length === 1 && paths[0] === '_id') fail('the _id index always exists');
  const { name, unique, sparse, expireAfterSeconds } = options;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 120 || name === '_id_')) fail('invalid index name');
  if (unique !== undefined && typeof unique !== 'boolean') fail('unique must be a boolean');
  if (sparse !== undefined && typeof sparse !== 'boolean') fail('sparse must be a boolean');
  const description: IndexDescription = {
    name: name ?? defaultIndexName(keys),
    keys: { ...keys },
    unique: unique ?? false,
    sparse: sparse ?? false,
  };
  if (expireAfterSeconds !== undefined) {
    if (!Number.isSafeInteger(expireAfterSeconds) || expireAfterSeconds < 0 || expireAfterSeconds > 2147483647) {
      fail('expireAfterSeconds must be an integer from 0 to 2147483647');
    }
    // MongoDB only expires through single-field indexes; NeDB only reads top-level fields.
    if (paths.length !== 1 || paths[0]!.includes('.')) fail('a TTL index is on one top-level field');
    description.expireAfterSeconds = expireAfterSeconds;
  }
  return description;
}
