// What createIndex does given the indexes a collection already has; shared so both adapters make
// the same decision (and MongoDB's "index exists with different options" becomes one error type).
import { StorageUsageError, type IndexDescription, type IndexKeys } from './port.ts';

export type IndexPlan = { action: 'exists' } | { action: 'create' } | { action: 'setTtl'; expireAfterSeconds: number };

export function sameKeys(a: IndexKeys, b: IndexKeys): boolean {
  const aPaths = Object.keys(a);
  const bPaths = Object.keys(b);
  if (aPaths.length !== bPaths.length) return false;
  for (let i = 0; i < aPaths.length; i++) {
    const path = aPaths[i]!;
    if (path !== bPaths[i] || a[path] !== b[path]) return false;
  }
  return true;
}

export function planIndex(existing: readonly IndexDescription[], wanted: IndexDescription): IndexPlan {
  const byName = existing.find((index) => index.name === wanted.name);
  if (byName && !sameKeys(byName.keys, wanted.keys)) {
    throw new StorageUsageError(`index name ${wanted.name} is already used for other keys`);
  }
  const current = byName ?? existing.find((index) => sameKeys(index.keys, wanted.keys));
  if (!current) return { action: 'create' };
  if (current.name !== wanted.name) {
    throw new StorageUsageError(`index ${wanted.name}: the same keys are already indexed as ${current.name}`);
  }
  if (current.unique !== wanted.unique || current.sparse !== wanted.sparse) {
    throw new StorageUsageError(`index ${wanted.name} exists with other options (unique/sparse); drop it to change them`);
  }
  if (current.expireAfterSeconds === wanted.expireAfterSeconds) return { action: 'exists' };
  if (current.expireAfterSeconds === undefined || wanted.expireAfterSeconds === undefined) {
    throw new StorageUsageError(`index ${wanted.name}: cannot turn a TTL index into a plain one or back; drop it first`);
  }
  return { action: 'setTtl', expireAfterSeconds: wanted.expireAfterSeconds };
}
