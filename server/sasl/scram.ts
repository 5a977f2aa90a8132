// Server side of SCRAM (RFC 5802; SCRAM-SHA-256 RFC 7677; SCRAM-SHA-512 by the same construction),
// with and without channel binding (-PLUS). Login costs two HMACs and a hash over stored keys: no PBKDF2.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { randomBase64 } from '../random.ts';
import { SaslFailure } from '../errors.ts';
import { DEFAULT_ITERATIONS, HASH_INFO, digest, hmac, saslprep, type ScramHash, type ScramHashCredentials } from './credentials.ts';
import type { SaslContext, SaslExchange, SaslStep } from './mechanism.ts';
import { isChannelBindingType } from './channel-binding.ts';
import { decodeUtf8 } from './utf8.ts';
import { lookupCredentials } from './lookup-credentials.ts';

export interface ScramExchangeOptions {
  /** Test hook: a fixed server nonce (RFC test vectors). Never set in production. */
  serverNonce?: string;
}

/** RFC 5802 §7 gs2-header, parsed. */
interface Gs2Header {
  flag: 'n' | 'y' | 'p';
  cbName?: string;
  authzid?: string;
  /** The header exactly as the client sent it, which c= must repeat (RFC 5802 §5.1 'c'). */
  raw: string;
}

interface FirstState {
  gs2: Gs2Header;
  cbData: Buffer;
  username: string;
  nonce: string;
  clientFirstBare: string;
  serverFirst: string;
  creds: ScramHashCredentials;
  known: boolean;
}

// Per-process secret for the made-up salts of unknown users, so that probing cannot tell which accounts exist.
const FAKE_SALT_SECRET = randomBytes(32);

const PRINTABLE = /^[\x21-\x2B\x2D-\x7E]+$/; // RFC 5802 §7 printable: ASCII except ','
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)?$/;
const SASLNAME = /^(?:[^=,\0]|=2C|=3D)+$/; // RFC 5802 §7 saslname
const CB_NAME = /^[A-Za-z0-9.-]+$/;
const ATTR_VAL = /^[A-Za-z]=[^,\0]+$/;

// 18 bytes: 24 base64 characters, all RFC 5802 'printable'; from the shared pool (server/random.ts).
const NONCE_BYTES = 18;

function serverNonce(): string {
  return randomBase64(NONCE_BYTES);
}

function malformed(text: string): SaslFailure {
  return new SaslFailure('malformed-request', text);
}

/** RFC 5802 §5.1: ',' and '=' in names travel as '=2C' and '=3D'; any other '=' is an error. */
function decodeSaslname(value: string): string {
  if (!SASLNAME.test(value)) throw malformed('invalid saslname');
  return value.replace(/=2C|=3D/g, (m) => (m === '=2C' ? ',' : '='));
}

/** Extension attributes are skipped, except the reserved 'm' which MUST fail authentication (RFC 5802 §5.1). */
function checkExtensions(attrs: string[]): void {
  for (const attr of attrs) {
    if (!ATTR_VAL.test(attr)) throw malformed('invalid attribute');
    if (attr[0] === 'm') throw malformed('unsupported mandatory extension');
  }
}

function payload(response: Buffer | null): string {
  if (response === null || response.length === 0) throw malformed('empty response');
  const text = decodeUtf8(response);
  if (text === undefined || text.includes('\0')) throw malformed('not UTF-8 text');
  return text;
}

function parseGs2Header(msg: string): { gs2: Gs2Header; rest: string } {
  const flagEnd = msg.indexOf(',');
  if (flagEnd < 0) throw malformed('no GS2 header');
  const flagField = msg.slice(0, flagEnd);
  let flag: Gs2Header['flag'];
  let cbName: string | undefined;
  if (flagField === 'n' || flagField === 'y') {
    flag = flagField;
  } else if (flagField.startsWith('p=') && CB_NAME.test(flagField.slice(2))) {
    flag = 'p';
    cbName = flagField.slice(2);
  } else {
    throw malformed('invalid channel-binding flag');
  }
  const authzEnd = msg.indexOf(',', flagEnd + 1);
  if (authzEnd < 0) throw malformed('incomplete GS2 header');
  const authzField = msg.slice(flagEnd + 1, authzEnd);
  let authzid: string | undefined;
  if (authzField !== '') {
    if (!authzField.startsWith('a=')) throw malformed('invalid authzid');
    authzid = decodeSaslname(authzField.slice(2));
  }
  const raw = msg.slice(0, authzEnd + 1);
  return { gs2: { flag, cbName, authzid, raw }, rest: msg.slice(authzEnd + 1) };
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A deterministic salt per (hash, username), so probing the same unknown name twice sees the same salt. */
function fakeCredentials(hash: ScramHash, username: string, iterations: number): ScramHashCredentials {
  const salt = createHmac('sha256', FAKE_SALT_SECRET).update(`${hash}\0${username}`).digest().subarray(0, 16);
  // Keys of the right length so the final step does the same work; `known: false` fails it regardless.
  const zeros = Buffer.alloc(HASH_INFO[hash].bytes).toString('base64');
  return { salt: salt.toString('base64'), iterations, storedKey: zeros, serverKey: zeros };
}

export class ScramExchange implements SaslExchange {
  private phase: 'initial' | 'awaiting-first' | 'awaiting-final' | 'done' = 'initial';
  private busy = false;
  private first: FirstState | undefined;

  constructor(
    readonly hash: ScramHash,
    readonly plus: boolean,
    private readonly ctx: SaslContext,
    private readonly opts: ScramExchangeOptions = {},
  ) {}

  get mechanism(): string {
    return `SCRAM-${this.hash}${this.plus ? '-PLUS' : ''}`;
  }

  async step(response: Buffer | null): Promise<SaslStep> {
    if (this.busy || this.phase === 'done') throw malformed('no response expected');
    this.busy = true;
    try {
      switch (this.phase) {
        case 'initial':
          // RFC 6120 §6.4.2: no initial response, so send an empty challenge and wait for client-first.
          if (response === null) {
            this.phase = 'awaiting-first';
            return { kind: 'challenge', data: Buffer.alloc(0) };
          }
          return await this.clientFirst(response);
        case 'awaiting-first':
          return await this.clientFirst(response);
        default:
          return this.clientFinal(response);
      }
    } catch (err) {
      this.phase = 'done';
      throw err;
    } finally {
      this.busy = false;
    }
  }

  abort(): SaslFailure {
    this.phase = 'done';
    this.first = undefined;
    return new SaslFailure('aborted');
  }

  private async clientFirst(response: Buffer | null): Promise<SaslStep> {
    const msg = payload(response);
    const { gs2, rest: bare } = parseGs2Header(msg);
    const attrs = bare.split(',');
    if (attrs[0]?.startsWith('m=')) throw malformed('unsupported mandatory extension');
    const [userAttr, nonceAttr, ...extensions] = attrs;
    if (!userAttr?.startsWith('n=')) throw malformed('no username');
    if (!nonceAttr?.startsWith('r=') || !PRINTABLE.test(nonceAttr.slice(2))) throw malformed('invalid client nonce');
    checkExtensions(extensions);
    const cbData = this.channelBindingData(gs2);

    // RFC 5802 §5.1: SASLprep the name; a failure or an empty result aborts the exchange.
    const username = saslprep(decodeSaslname(userAttr.slice(2)));
    if (!username) throw malformed('the username is not valid under SASLprep');

    const stored = (await lookupCredentials(this.ctx, username))?.[this.hash];
    if (this.phase === 'done') throw new SaslFailure('aborted'); // aborted while the lookup ran
    const creds = stored ?? fakeCredentials(this.hash, username, this.ctx.scramIterations ?? DEFAULT_ITERATIONS);
    const nonce = nonceAttr.slice(2) + (this.opts.serverNonce ?? serverNonce());
    const serverFirst = `r=${nonce},s=${creds.salt},i=${creds.iterations}`;
    this.first = { gs2, cbData, username, nonce, clientFirstBare: bare, serverFirst, creds, known: stored !== undefined };
    this.phase = 'awaiting-final';
    return { kind: 'challenge', data: Buffer.from(serverFirst, 'utf8') };
  }

  /** RFC 5802 §6: which channel-binding flag is acceptable for this mechanism on this connection. */
  private channelBindingData(gs2: Gs2Header): Buffer {
    if (gs2.flag === 'p') {
      if (!this.plus) throw malformed('channel binding requested with a mechanism without -PLUS');
      const type = gs2.cbName!;
      // tls-unique only when the operator allows it (see server/tls/channel-binding.ts tlsUnique).
      const allowed = isChannelBindingType(type) && (type !== 'tls-unique' || this.ctx.acceptTlsUnique === true);
      const data = allowed ? this.ctx.channelBinding(type) : undefined;
      // RFC 5802 §7 server-error-value 'unsupported-channel-binding-type'
      if (data === undefined) throw malformed('unsupported-channel-binding-type');
      return data;
    }
    if (this.plus) throw malformed('a -PLUS mechanism requires channel binding');
    // RFC 5802 §6: 'y' says the client thinks we cannot bind; if we offered -PLUS, someone stripped it.
    if (gs2.flag === 'y' && this.ctx.plusOffered) throw new SaslFailure('not-authorized', 'server-does-support-channel-binding');
    return Buffer.alloc(0);
  }

  private clientFinal(response: Buffer | null): SaslStep {
    const first = this.first!;
    const msg = payload(response);
    const proofAt = msg.lastIndexOf(',');
    const withoutProof = msg.slice(0, Math.max(proofAt, 0));
    const proofAttr = msg.slice(proofAt + 1);
    const [cbAttr, nonceAttr, ...extensions] = withoutProof.split(',');
    if (proofAt < 0 || !proofAttr.startsWith('p=') || !BASE64.test(proofAttr.slice(2)) || proofAttr.length === 2) throw malformed('invalid proof');
    if (!cbAttr?.startsWith('c=') || !BASE64.test(cbAttr.slice(2))) throw malformed('invalid channel binding');
    if (!nonceAttr?.startsWith('r=') || !PRINTABLE.test(nonceAttr.slice(2))) throw malformed('invalid nonce');
    checkExtensions(extensions);

    const { hash } = this;
    const storedKey = Buffer.from(first.creds.storedKey, 'base64');
    const serverKey = Buffer.from(first.creds.serverKey, 'base64');
    // RFC 5802 §3: AuthMessage := client-first-message-bare + "," + server-first-message + "," + client-final-message-without-proof
    const authMessage = Buffer.from(`${first.clientFirstBare},${first.serverFirst},${withoutProof}`, 'utf8');
    const clientSignature = hmac(hash, storedKey, authMessage);
    const serverSignature = hmac(hash, serverKey, authMessage);
    const proof = Buffer.from(proofAttr.slice(2), 'base64');
    const clientKey = Buffer.alloc(clientSignature.length);
    for (let i = 0; i < clientKey.length; i++) clientKey[i] = clientSignature[i]! ^ (proof[i] ?? 0);
    const proofOk = constantTimeEqual(digest(hash, clientKey), storedKey) && proof.length === clientSignature.length;

    // RFC 5802 §5.1 'c': the client repeats the GS2 header and, for -PLUS, the channel-binding data.
    const expectedCb = Buffer.concat([Buffer.from(first.gs2.raw, 'utf8'), first.cbData]).toString('base64');
    const cbOk = cbAttr.slice(2) === expectedCb;
    const nonceOk = nonceAttr.slice(2) === first.nonce;
    this.phase = 'done';
    this.first = undefined;
    // Unknown users fail here, after the same work as known ones, with the same condition.
    if (!first.known || !proofOk || !cbOk || !nonceOk) {
      throw new SaslFailure('not-authorized', cbOk ? undefined : 'channel-bindings-dont-match');
    }
    return {
      kind: 'success',
      data: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'),
      username: first.username,
      ...(first.gs2.authzid !== undefined ? { authzid: first.gs2.authzid } : {}),
    };
  }
}
