// SCRAM credentials: the only password-derived material Chorus stores (RFC 5802 §3, RFC 7677).
// A stolen copy does not let anyone log in with SCRAM or PLAIN without first cracking PBKDF2.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import saslprepLib from '@mongodb-js/saslprep';

const pbkdf2Async = promisify(pbkdf2);

export type ScramHash = 'SHA-1' | 'SHA-256' | 'SHA-512';
export const SCRAM_HASHES: readonly ScramHash[] = ['SHA-1', 'SHA-256', 'SHA-512'];

/** Node's name and digest length of each SCRAM hash. */
export const HASH_INFO: Readonly<Record<ScramHash, { node: string; bytes: number }>> = {
  'SHA-1': { node: 'sha1', bytes: 20 },
  'SHA-256': { node: 'sha256', bytes: 32 },
  'SHA-512': { node: 'sha512', bytes: 64 },
};

/** One hash's stored material; plain JSON values (base64 strings) so any storage adapter can keep it. */
export interface ScramHashCredentials {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

export type ScramCredentials = Record<ScramHash, ScramHashCredentials>;

/**
 * RFC 5802 §5.1 / RFC 7677 §4: 4096 is the recommended minimum. SHA-512 gets the same count on
 * purpose: all three hashes are stored for the same password, so an attacker holding the database
 * attacks the cheapest one; more SHA-512 rounds would cost clients time without raising that bar.
 */
export const DEFAULT_ITERATIONS = 4096;
const SALT_BYTES = 16;

export class InvalidPasswordError extends Error {}

/**
 * SASLprep (RFC 4013). Unassigned code points are allowed, also for stored strings: new Unicode
 * characters (emoji) must still work as passwords, and clients prepare them the same way.
 * Returns undefined when the string has prohibited characters or breaks the bidi rule.
 */
export function saslprep(value: string): string | undefined {
  try {
    return saslprepLib(value, { allowUnassigned: true });
  } catch {
    return undefined;
  }
}

export function hmac(hash: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(HASH_INFO[hash].node, key).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(HASH_INFO[hash].node).update(data).digest();
}

/** RFC 5802 §3: SaltedPassword := Hi(password, salt, i); Hi is PBKDF2 with HMAC as PRF and dkLen = hash size. */
async function saltedPassword(hash: ScramHash, prepared: string, salt: Buffer, iterations: number): Promise<Buffer> {
  // Async pbkdf2 runs in the libuv pool, so account creation and PLAIN never block the event loop.
  return pbkdf2Async(Buffer.from(prepared, 'utf8'), salt, iterations, HASH_INFO[hash].bytes, HASH_INFO[hash].node);
}

function keysFromSalted(hash: ScramHash, salted: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  // RFC 5802 §3: ClientKey := HMAC(SaltedPassword, "Client Key"); StoredKey := H(ClientKey)
  const clientKey = hmac(hash, salted, 'Client Key');
  return { storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

/** One hash's credentials from a password, with the given salt (a known salt reproduces RFC test vectors). */
export async function deriveScramKeys(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<ScramHashCredentials> {
  const prepared = saslprep(password);
  if (prepared === undefined) throw new InvalidPasswordError('the password has characters SASLprep prohibits (RFC 4013 §2.3)');
  const { storedKey, serverKey } = keysFromSalted(hash, await saltedPassword(hash, prepared, salt, iterations));
  return { salt: salt.toString('base64'), iterations, storedKey: storedKey.toString('base64'), serverKey: serverKey.toString('base64') };
}

/**
 * Credentials for all three hashes, each with its own random salt. `iterations` is one count for
 * all hashes or a count per hash (config); throws InvalidPasswordError when SASLprep rejects the password.
 */
export async function deriveCredentials(
  password: string,
  opts: { iterations?: number | Partial<Record<ScramHash, number>> } = {},
): Promise<ScramCredentials> {
  const iterationsOf = (hash: ScramHash): number => {
    const it = typeof opts.iterations === 'number' ? opts.iterations : opts.iterations?.[hash];
    const n = it ?? DEFAULT_ITERATIONS;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`invalid SCRAM iteration count ${n}`);
    return n;
  };
  const [sha1, sha256, sha512] = await Promise.all(
    SCRAM_HASHES.map((hash) => deriveScramKeys(hash, password, randomBytes(SALT_BYTES), iterationsOf(hash))),
  );
  return { 'SHA-1': sha1!, 'SHA-256': sha256!, 'SHA-512': sha512! };
}

/** The hash PLAIN verifies against: the strongest common one whose material is present. */
const PLAIN_VERIFY_ORDER: readonly ScramHash[] = ['SHA-256', 'SHA-512', 'SHA-1'];

/**
 * For PLAIN (RFC 4616): re-derive StoredKey from the password with the stored salt and count of one
 * hash, and compare in constant time. False also when SASLprep rejects the password.
 */
export async function verifyPassword(password: string, creds: ScramCredentials): Promise<boolean> {
  const hash = PLAIN_VERIFY_ORDER.find((h) => creds[h] !== undefined);
  if (!hash) return false;
  const stored = creds[hash];
  const prepared = saslprep(password);
  if (prepared === undefined) return false;
  const { storedKey } = keysFromSalted(hash, await saltedPassword(hash, prepared, Buffer.from(stored.salt, 'base64'), stored.iterations));
  const expected = Buffer.from(stored.storedKey, 'base64');
  return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
}
