// SCRAM-SHA-1 credentials computed by the bench itself, for targets whose account files it can
// write directly (much faster than one admin command per account), and the matching seeds for
// the generator's salted-password cache.
import { createHash, createHmac } from 'node:crypto';
import { saltedPassword, type ScramSeed } from '../scram-client.ts';

export interface StoredCredential {
  user: string;
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
  saltedPassword: Buffer;
}

/** n credentials, PBKDF2 spread over libuv's thread pool a batch at a time. */
export async function makeCredentials(
  n: number,
  userPrefix: string,
  password: string,
  iterations: number,
  salt: (i: number) => Buffer,
  progress?: (done: number) => void,
): Promise<StoredCredential[]> {
  const out: StoredCredential[] = new Array(n);
  const batch = 64;
  for (let i = 0; i < n; i += batch) {
    const jobs: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const s = salt(j);
      jobs.push(
        saltedPassword(password, s, iterations).then((sp) => {
          const clientKey = createHmac('sha1', sp).update('Client Key').digest();
          out[j] = {
            user: `${userPrefix}${j}`,
            salt: s,
            iterations,
            saltedPassword: sp,
            storedKey: createHash('sha1').update(clientKey).digest(),
            serverKey: createHmac('sha1', sp).update('Server Key').digest(),
          };
        }),
      );
    }
    await Promise.all(jobs);
    if (progress && (i / batch) % 16 === 0) progress(Math.min(n, i + batch));
  }
  return out;
}

export function seedsOf(creds: StoredCredential[], password: string): ScramSeed[] {
  return creds.map((c) => ({ password, salt: c.salt.toString('base64'), iterations: c.iterations, saltedPassword: c.saltedPassword.toString('hex') }));
}
