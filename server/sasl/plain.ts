// PLAIN (RFC 4616): only ever offered under TLS. Verified against the stored SCRAM material, so it
// costs one PBKDF2 run (async, in the libuv pool) per attempt.
import { randomBytes } from 'node:crypto';
import { SaslFailure } from '../errors.ts';
import { DEFAULT_ITERATIONS, saslprep, verifyPassword, type ScramCredentials } from './credentials.ts';
import type { SaslContext, SaslExchange, SaslStep } from './mechanism.ts';
import { decodeUtf8 } from './utf8.ts';
import { lookupCredentials } from './lookup-credentials.ts';

/** RFC 4616 §2 requires accepting up to 255 octets per field; we accept more but not without bound. */
const MAX_FIELD_BYTES = 1024;

export class PlainExchange implements SaslExchange {
  private phase: 'initial' | 'awaiting' | 'done' = 'initial';

  constructor(private readonly ctx: SaslContext) {}

  async step(response: Buffer | null): Promise<SaslStep> {
    if (this.phase === 'done') throw new SaslFailure('malformed-request', 'no response expected');
    if (response === null && this.phase === 'initial') {
      // RFC 6120 §6.4.2: no initial response, so an empty challenge asks for it.
      this.phase = 'awaiting';
      return { kind: 'challenge', data: Buffer.alloc(0) };
    }
    this.phase = 'done';
    const { authzid, authcid, passwd } = parse(response);
    const username = saslprep(authcid);
    if (!username) throw new SaslFailure('malformed-request', 'the username is not valid under SASLprep');
    const creds = await lookupCredentials(this.ctx, username);
    // An unknown user costs the same PBKDF2 run as a known one, so timing does not tell them apart.
    const ok = await verifyPassword(passwd, creds ?? this.decoy());
    if (!creds || !ok) throw new SaslFailure('not-authorized');
    return { kind: 'success', data: null, username, ...(authzid !== '' ? { authzid } : {}) };
  }

  abort(): SaslFailure {
    this.phase = 'done';
    return new SaslFailure('aborted');
  }

  private decoy(): ScramCredentials {
    const hashCreds = { salt: randomBytes(16).toString('base64'), iterations: this.ctx.scramIterations ?? DEFAULT_ITERATIONS, storedKey: '', serverKey: '' };
    return { 'SHA-1': hashCreds, 'SHA-256': hashCreds, 'SHA-512': hashCreds };
  }
}

/** RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd; authcid and passwd are 1*SAFE. */
function parse(response: Buffer | null): { authzid: string; authcid: string; passwd: string } {
  if (response === null || response.length === 0) throw new SaslFailure('malformed-request', 'empty response');
  const text = decodeUtf8(response);
  if (text === undefined) throw new SaslFailure('malformed-request', 'not UTF-8 text');
  const fields = text.split('\0');
  if (fields.length !== 3) throw new SaslFailure('malformed-request', 'expected authzid NUL authcid NUL password');
  const [authzid, authcid, passwd] = fields as [string, string, string];
  if (authcid === '' || passwd === '') throw new SaslFailure('malformed-request', 'empty username or password');
  if (fields.some((f) => Buffer.byteLength(f, 'utf8') > MAX_FIELD_BYTES)) throw new SaslFailure('malformed-request', 'field too long');
  return { authzid, authcid, passwd };
}
