// Values as the embedded store keeps them, and MongoDB's comparison rules over them.
// Stored values are JSON-like plus Date; binary is a marker object (see BINARY_KEY).

/**
 * NeDB can neither serialise nor copy a Buffer, so binary is kept as `{ "\u0000bin": base64 }`.
 * No port document can hold that field (NUL is refused in field names), so it cannot collide.
 */
export const BINARY_KEY = '\u0000bin';

export type StoredDoc = Record<string, unknown>;

export function isBinaryMarker(value: unknown): value is { [BINARY_KEY]: string } {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[BINARY_KEY] === 'string';
}

/** A subdocument: an object that is not an array, a Date or binary. */
export function isDocument(value: unknown): value is StoredDoc {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !isBinaryMarker(value);
}

/**
 * Code-point order, which is MongoDB's (UTF-8 byte order) string order. JavaScript's `<` compares
 * UTF-16 units, which puts U+E000..U+FFFF after astral characters; shift the two ranges to fix it.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca < cb ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Equality with a filter scalar (already in stored form). */
export function scalarEquals(stored: unknown, wanted: unknown): boolean {
  if (wanted instanceof Date) return stored instanceof Date && stored.getTime() === wanted.getTime();
  if (isBinaryMarker(wanted)) return isBinaryMarker(stored) && stored[BINARY_KEY] === wanted[BINARY_KEY];
  return stored === wanted;
}

/** BSON equality: subdocument fields must match in order, as MongoDB compares them. */
export function deepEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEquals(a[i], b[i])) return false;
    return true;
  }
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  for (let i = 0; i < aKeys.length; i++) {
    const key = aKeys[i]!;
    if (key !== bKeys[i] || !deepEquals((a as StoredDoc)[key], (b as StoredDoc)[key])) return false;
  }
  return true;
}

/** Range comparison within one type bracket; undefined when the types differ (MongoDB then never matches). */
export function rangeCompare(stored: unknown, wanted: number | string | Date): number | undefined {
  if (typeof wanted === 'number') return typeof stored === 'number' ? Math.sign(stored - wanted) : undefined;
  if (typeof wanted === 'string') return typeof stored === 'string' ? compareCodePoints(stored, wanted) : undefined;
  return stored instanceof Date ? Math.sign(stored.getTime() - wanted.getTime()) : undefined;
}

/** MongoDB's order of types when values of different types meet ($min/$max). */
function typeRank(value: unknown): number {
  if (value === null || value === undefined) return 1;
  switch (typeof value) {
    case 'number': return 2;
    case 'string': return 3;
    case 'boolean': return 7;
  }
  if (value instanceof Date) return 8;
  if (isBinaryMarker(value)) return 6;
  return Array.isArray(value) ? 5 : 4;
}

/** Total order over stored values following BSON comparison. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1: return 0;
    case 2: return Math.sign((a as number) - (b as number));
    case 3: return compareCodePoints(a as string, b as string);
    case 7: return a === b ? 0 : a ? 1 : -1;
    case 8: return Math.sign((a as Date).getTime() - (b as Date).getTime());
    case 6: {
      // BSON orders binary by length first, then bytes.
      const x = Buffer.from((a as { [BINARY_KEY]: string })[BINARY_KEY], 'base64');
      const y = Buffer.from((b as { [BINARY_KEY]: string })[BINARY_KEY], 'base64');
      return x.length !== y.length ? (x.length < y.length ? -1 : 1) : Buffer.compare(x, y);
    }
    case 5: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return Math.sign(x.length - y.length);
    }
    default: {
      const x = Object.entries(a as StoredDoc);
      const y = Object.entries(b as StoredDoc);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        // BSON compares each field's type, then its name, then its value.
        const [xName, xValue] = x[i]!;
        const [yName, yValue] = y[i]!;
        const c = Math.sign(typeRank(xValue) - typeRank(yValue)) || compareCodePoints(xName, yName) || compareValues(xValue, yValue);
        if (c !== 0) return c;
      }
      return Math.sign(x.length - y.length);
    }
  }
}
