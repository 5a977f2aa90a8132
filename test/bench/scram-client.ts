// SCRAM-SHA-1 client side (RFC 5802) for the load generator. Real clients keep the derived keys
// after their first login (RFC 5802 §5.1 allows it), so the PBKDF2 cost is paid once per
// (password, salt, iterations), never per login: that keeps the generator from becoming the
// bottleneck of a login benchmark.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ScramKeys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** A salted-password entry exchanged between processes (hex, so it crosses IPC as JSON). */
export interface ScramSeed {
  password: string;
  salt: string; // base64, as the server sends it
  iterations: number;
  saltedPassword: string; // hex
}

const keyOf = (password: string, saltB64: string, iterations: number): string => `${iterations}\u0000${saltB64}\u0000${password}`;

export function keysFromSaltedPassword(salted: Buffer): ScramKeys {
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  return {
    clientKey,
    storedKey: createHash('sha1').update(clientKey).digest(),
    serverKey: createHmac('sha1', salted).update('Server Key').digest(),
  };
}

export class ScramCache {
  readonly #keys = new Map<string, ScramKeys>();
  hits = 0;
  misses = 0;

  get(password: string, saltB64: string, iterations: number): ScramKeys | undefined {
    const k = this.#keys.get(keyOf(password, saltB64, iterations));
    if (k) this.hits++;
    return k;
  }

  seed(s: ScramSeed): void {
    this.#keys.set(keyOf(s.password, s.salt, s.iterations), keysFromSaltedPassword(Buffer.from(s.saltedPassword, 'hex')));
  }

  /** Derives (in libuv's thread pool, off the event loop) and remembers the keys. */
  async derive(password: string, saltB64: string, iterations: number): Promise<ScramKeys> {
    const cached = this.get(password, saltB64, iterations);
    if (cached) return cached;
    this.misses++;
    const salted = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(password, Buffer.from(saltB64, 'base64'), iterations, 20, 'sha1', (err, key) => (err ? reject(err) : resolve(key))),
    );
    const keys = keysFromSaltedPassword(salted);
    this.#keys.set(keyOf(password, saltB64, iterations), keys);
    return keys;
  }

  get size(): number {
    return this.#keys.size;
  }
}

export interface ServerFirst {
  nonce: string;
  salt: string;
  iterations: number;
}

/** One SCRAM-SHA-1 exchange without channel binding (gs2 header "n,,"). */
export class ScramExchange {
  readonly clientFirstBare: string;
  readonly #cnonce: string;
  #authMessage = '';
  #serverKey: Buffer | undefined;

  constructor(username: string) {
    this.#cnonce = randomBytes(18).toString('base64');
    // RFC 5802 §5.1: ',' and '=' in the name are escaped; bench names are ASCII, so no SASLprep.
    this.clientFirstBare = `n=${username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.#cnonce}`;
  }

  /** The initial response carried in <auth/>. */
  clientFirst(): string {
    return `n,,${this.clientFirstBare}`;
  }

  parseServerFirst(serverFirst: string): ServerFirst {
    const attrs = parseAttrs(serverFirst);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1) throw new Error(`bad SCRAM server-first: ${serverFirst}`);
    if (!nonce.startsWith(this.#cnonce)) throw new Error('SCRAM server nonce does not extend the client nonce');
    return { nonce, salt, iterations };
  }

  clientFinal(serverFirst: string, sf: ServerFirst, keys: ScramKeys): string {
    const withoutProof = `c=biws,r=${sf.nonce}`; // biws = base64("n,,")
    this.#authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha1', keys.storedKey).update(this.#authMessage).digest();
    const proof = Buffer.alloc(signature.length);
    for (let i = 0; i < signature.length; i++) proof[i] = keys.clientKey[i]! ^ signature[i]!;
    this.#serverKey = keys.serverKey;
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server's proof (v=) carried in <success/>: a server that skips it is a failed login. */
  verifyServerFinal(serverFinal: string): boolean {
    const v = parseAttrs(serverFinal).get('v');
    if (!v || !this.#serverKey) return false;
    const expected = createHmac('sha1', this.#serverKey).update(this.#authMessage).digest();
    const got = Buffer.from(v, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  }
}

function parseAttrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) m.set(part[0]!, part.slice(2));
  }
  return m;
}

/** Prosody-style stored credentials for a password, so a target can be provisioned without the server. */
export async function saltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => pbkdf2(password, salt, iterations, 20, 'sha1', (err, key) => (err ? reject(err) : resolve(key))));
}
