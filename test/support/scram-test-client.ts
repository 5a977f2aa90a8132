// An independent SCRAM client for the tests, written straight from RFC 5802 §3 with node:crypto
// (pbkdf2Sync, createHmac, createHash), sharing no code with server/sasl/.
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

export type NodeHash = 'sha1' | 'sha256' | 'sha512';

const LENGTH: Record<NodeHash, number> = { sha1: 20, sha256: 32, sha512: 64 };

function escapeName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

export interface TestClientOptions {
  username: string;
  password: string;
  nonce: string;
  authzid?: string;
  /** The GS2 channel-binding flag: 'n', 'y' or 'p=<type>'. Default 'n'. */
  flag?: string;
  /** The channel-binding data the client puts into c= (for 'p='). */
  cbData?: Buffer;
  /** Extension attributes appended to client-first-message-bare, e.g. 'x=1'. */
  extensions?: string;
}

export class TestScramClient {
  private readonly gs2: string;
  private readonly bare: string;
  private authMessage = '';
  private saltedPassword = Buffer.alloc(0);

  constructor(private readonly hash: NodeHash, private readonly opts: TestClientOptions) {
    this.gs2 = `${opts.flag ?? 'n'},${opts.authzid !== undefined ? `a=${escapeName(opts.authzid)}` : ''},`;
    this.bare = `n=${escapeName(opts.username)},r=${opts.nonce}${opts.extensions ? `,${opts.extensions}` : ''}`;
  }

  first(): Buffer {
    return Buffer.from(this.gs2 + this.bare);
  }

  /** client-final for a server-first; `tamper` edits the message before the proof is computed over it. */
  final(serverFirst: Buffer, tamper: { nonce?: string; cb?: string; password?: string } = {}): Buffer {
    const text = serverFirst.toString();
    const fields = new Map(text.split(',').map((f) => [f[0], f.slice(2)] as const));
    const salt = Buffer.from(fields.get('s')!, 'base64');
    const iterations = Number(fields.get('i'));
    const cb = tamper.cb ?? Buffer.concat([Buffer.from(this.gs2), this.opts.cbData ?? Buffer.alloc(0)]).toString('base64');
    const withoutProof = `c=${cb},r=${tamper.nonce ?? fields.get('r')}`;
    this.authMessage = `${this.bare},${text},${withoutProof}`;
    this.saltedPassword = pbkdf2Sync(tamper.password ?? this.opts.password, salt, iterations, LENGTH[this.hash], this.hash);
    const clientKey = createHmac(this.hash, this.saltedPassword).update('Client Key').digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const signature = createHmac(this.hash, storedKey).update(this.authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }

  /** The server-final message a correct server sends: v=ServerSignature. */
  expectedServerFinal(): string {
    const serverKey = createHmac(this.hash, this.saltedPassword).update('Server Key').digest();
    return `v=${createHmac(this.hash, serverKey).update(this.authMessage).digest('base64')}`;
  }
}
