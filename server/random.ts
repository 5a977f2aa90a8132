// Random tokens for ids and nonces. One randomBytes() call costs ~10 µs; logins need several
// (stream ids, nonces, resources), so bytes come from a pool refilled in bulk and are never
// handed out twice.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let pos = pool.length;

function take(bytes: number): number {
  if (pos + bytes > pool.length) {
    randomFillSync(pool);
    pos = 0;
  }
  const at = pos;
  pos += bytes;
  return at;
}

/** `bytes` random bytes as base64url (no padding). */
export function randomToken(bytes: number): string {
  const at = take(bytes);
  return pool.toString('base64url', at, at + bytes);
}

/** `bytes` random bytes as standard base64 (RFC 4648 §4), e.g. for SCRAM nonces. */
export function randomBase64(bytes: number): string {
  const at = take(bytes);
  return pool.toString('base64', at, at + bytes);
}
