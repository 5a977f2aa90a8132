import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { deriveScramKeys, type ScramCredentials } from '../../../server/sasl/credentials.ts';
import { ScramExchange } from '../../../server/sasl/scram.ts';
import { SaslFailure } from '../../../server/errors.ts';
import type { SaslStep } from '../../../server/sasl/mechanism.ts';
import { makeContext, failureOf, type ContextOptions } from './sasl-fixtures.ts';
import { TestScramClient, type NodeHash } from '../../support/scram-test-client.ts';

// RFC 5802 §5 and RFC 7677 §3: user "user", password "pencil", fixed nonces and salts.
const RFC5802 = {
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverNonce: '3rfcNHYJY1ZVvWVs7j',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};
const RFC7677 = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const EXPORTER = Buffer.from('c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc', 'hex');
const END_POINT = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'hex');

let accounts: Record<string, ScramCredentials>;

async function credentialsFor(password: string, salts: { sha1?: string; sha256?: string } = {}): Promise<ScramCredentials> {
  const salt = (b64?: string) => (b64 ? Buffer.from(b64, 'base64') : randomBytes(16));
  return {
    'SHA-1': await deriveScramKeys('SHA-1', password, salt(salts.sha1), 4096),
    'SHA-256': await deriveScramKeys('SHA-256', password, salt(salts.sha256), 4096),
    'SHA-512': await deriveScramKeys('SHA-512', password, salt(), 4096),
  };
}

before(async () => {
  accounts = {
    user: await credentialsFor('pencil', { sha1: 'QSXCR+Q6sek8bf92', sha256: 'W22ZaJ0SNY7soEsUEjb6gQ==' }),
    'a,b=c': await credentialsFor('secret'),
    IX: await credentialsFor('pw'),
    a: await credentialsFor('pw'),
  };
});

const NODE: Record<'SHA-1' | 'SHA-256' | 'SHA-512', NodeHash> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' };

function exchange(hash: 'SHA-1' | 'SHA-256' | 'SHA-512', ctxOpts: ContextOptions = {}, plus = false) {
  const ctx = makeContext(accounts, ctxOpts);
  return { ctx, ex: new ScramExchange(hash, plus, ctx) };
}

async function challenge(step: Promise<SaslStep>): Promise<Buffer> {
  const s = await step;
  expect(s.kind).to.equal('challenge');
  return s.data!;
}

/** A full exchange with the independent test client; resolves to the server's final step. */
async function login(
  hash: 'SHA-1' | 'SHA-256' | 'SHA-512',
  client: { username: string; password: string; authzid?: string; flag?: string; cbData?: Buffer },
  ctxOpts: ContextOptions = {},
  plus = false,
): Promise<{ step: SaslStep; client: TestScramClient }> {
  const { ex } = exchange(hash, ctxOpts, plus);
  const c = new TestScramClient(NODE[hash], { nonce: randomBytes(12).toString('base64'), ...client });
  const serverFirst = await challenge(ex.step(c.first()));
  return { step: await ex.step(c.final(serverFirst)), client: c };
}

describe('SCRAM server (RFC 5802, RFC 7677)', () => {
  describe('published test vectors', () => {
    it('reproduces the RFC 5802 §5 SCRAM-SHA-1 example byte for byte', async () => {
      const ex = new ScramExchange('SHA-1', false, makeContext(accounts), { serverNonce: RFC5802.serverNonce });
      const first = await ex.step(Buffer.from(RFC5802.clientFirst));
      expect(first.kind).to.equal('challenge');
      expect(first.data!.toString()).to.equal(RFC5802.serverFirst);
      const final = await ex.step(Buffer.from(RFC5802.clientFinal));
      expect(final).to.deep.equal({ kind: 'success', data: Buffer.from(RFC5802.serverFinal), username: 'user' });
    });

    it('reproduces the RFC 7677 §3 SCRAM-SHA-256 example byte for byte', async () => {
      const ex = new ScramExchange('SHA-256', false, makeContext(accounts), { serverNonce: RFC7677.serverNonce });
      expect((await ex.step(Buffer.from(RFC7677.clientFirst))).data!.toString()).to.equal(RFC7677.serverFirst);
      const final = await ex.step(Buffer.from(RFC7677.clientFinal));
      expect(final).to.deep.equal({ kind: 'success', data: Buffer.from(RFC7677.serverFinal), username: 'user' });
    });

    it('rejects the RFC 5802 client-final when the password differs', async () => {
      const ctx = makeContext({ user: await credentialsFor('pencil2', { sha1: 'QSXCR+Q6sek8bf92' }) });
      const ex = new ScramExchange('SHA-1', false, ctx, { serverNonce: RFC5802.serverNonce });
      expect((await ex.step(Buffer.from(RFC5802.clientFirst))).data!.toString()).to.equal(RFC5802.serverFirst);
      expect(await failureOf(ex.step(Buffer.from(RFC5802.clientFinal)))).to.equal('not-authorized');
    });
  });

  describe('full exchanges against an independent node:crypto client', () => {
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-512'] as const) {
      it(`SCRAM-${hash}: succeeds with the right password and sends the expected v=`, async () => {
        const { step, client } = await login(hash, { username: 'user', password: 'pencil' });
        expect(step.kind).to.equal('success');
        expect(step.data!.toString()).to.equal(client.expectedServerFinal());
        expect(step).to.include({ username: 'user' });
        expect(step).not.to.have.property('authzid');
      });

      it(`SCRAM-${hash}: fails with a wrong password (not-authorized)`, async () => {
        expect(await failureOf(login(hash, { username: 'user', password: 'pencil!' }))).to.equal('not-authorized');
      });
    }

    it('server-first carries the stored salt and count, and a fresh printable server nonce after the client nonce', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const { ex } = exchange('SHA-256');
        const text = (await challenge(ex.step(Buffer.from('n,,n=user,r=abc')))).toString();
        const m = /^r=abc([\x21-\x2B\x2D-\x7E]{16,}),s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096$/.exec(text);
        expect(m, text).to.not.equal(null);
        seen.add(m![1]!);
      }
      expect(seen.size).to.equal(3);
    });

    it('unescapes =2C and =3D in the username and authzid', async () => {
      const { step } = await login('SHA-256', { username: 'a,b=c', password: 'secret', authzid: 'x,y=z@example.com' });
      expect(step).to.deep.include({ kind: 'success', username: 'a,b=c', authzid: 'x,y=z@example.com' });
    });

    it('ignores unknown extension attributes after the nonce and includes them in AuthMessage', async () => {
      const { ex } = exchange('SHA-1');
      const c = new TestScramClient('sha1', { username: 'user', password: 'pencil', nonce: 'cnonce', extensions: 'x=some-extension' });
      expect(c.first().toString()).to.equal('n,,n=user,r=cnonce,x=some-extension');
      const serverFirst = await challenge(ex.step(c.first()));
      const final = await ex.step(c.final(serverFirst));
      expect(final.kind).to.equal('success');
      expect(final.data!.toString()).to.equal(c.expectedServerFinal());
    });
  });

  describe('initial response (RFC 6120 §6.4.2)', () => {
    it('answers an absent initial response with an empty challenge, then continues', async () => {
      const { ex } = exchange('SHA-256');
      const c = new TestScramClient('sha256', { username: 'user', password: 'pencil', nonce: 'n0nce' });
      const empty = await ex.step(null);
      expect(empty).to.deep.equal({ kind: 'challenge', data: Buffer.alloc(0) });
      const serverFirst = await challenge(ex.step(c.first()));
      expect((await ex.step(c.final(serverFirst))).kind).to.equal('success');
    });

    it('fails an empty initial response ("=") with malformed-request', async () => {
      expect(await failureOf(exchange('SHA-1').ex.step(Buffer.alloc(0)))).to.equal('malformed-request');
    });

    it('fails an empty response after the empty challenge with malformed-request', async () => {
      const { ex } = exchange('SHA-1');
      await ex.step(null);
      expect(await failureOf(ex.step(null))).to.equal('malformed-request');
    });
  });

  describe('client-first syntax errors → malformed-request', () => {
    const cases: [string, string | Buffer][] = [
      ['unknown flag', 'x,,n=user,r=abc'],
      ['flag without the authzid field', 'n,n=user,r=abc'],
      ['no GS2 header at all', 'n=user,r=abc'],
      ['missing username', 'n,,r=abc'],
      ['missing nonce', 'n,,n=user'],
      ['empty nonce', 'n,,n=user,r='],
      ['nonce with a space', 'n,,n=user,r=ab c'],
      ['nonce with DEL', 'n,,n=user,r=ab\x7Fc'],
      ['nonce with a non-ASCII character', 'n,,n=user,r=abé'],
      ['attributes out of order', 'n,,r=abc,n=user'],
      ['empty username', 'n,,n=,r=abc'],
      ['bad escape in the username', 'n,,n=us=2Aer,r=abc'],
      ['bare "=" in the username', 'n,,n=us=er,r=abc'],
      ['empty authzid', 'n,a=,n=user,r=abc'],
      ['bad escape in the authzid', 'n,a=x=y,n=user,r=abc'],
      ['reserved m= before the username (RFC 5802 §5.1)', 'n,,m=ext,n=user,r=abc'],
      ['reserved m= among the extensions', 'n,,n=user,r=abc,m=ext'],
      ['malformed extension', 'n,,n=user,r=abc,xyz'],
      ['empty extension value', 'n,,n=user,r=abc,x='],
      ['invalid channel-binding type name', 'p=tls exporter,,n=user,r=abc'],
      ['username SASLprep forbids (U+0007)', 'n,,n=us\u0007er,r=abc'],
      ['username SASLprep maps to nothing (U+00AD)', 'n,,n=\u00AD,r=abc'],
      ['username breaking the bidi rule', 'n,,n=\u0627\u0031,r=abc'],
      ['NUL byte', Buffer.from('n,,n=us\0er,r=abc')],
      ['invalid UTF-8', Buffer.concat([Buffer.from('n,,n=us'), Buffer.from([0xc3, 0x28]), Buffer.from(',r=abc')])],
    ];
    for (const [name, msg] of cases) {
      it(name, async () => {
        const { ex, ctx } = exchange('SHA-256');
        expect(await failureOf(ex.step(typeof msg === 'string' ? Buffer.from(msg) : msg))).to.equal('malformed-request');
        expect(ctx.lookups).to.deep.equal([]); // nothing was looked up for a malformed message
        expect(await failureOf(ex.step(Buffer.from('c=biws,r=abc,p=AAAA')))).to.equal('malformed-request'); // the exchange is spent
      });
    }
  });

  describe('client-final errors', () => {
    async function afterFirst(hash: 'SHA-1' | 'SHA-256' = 'SHA-1') {
      const { ex } = exchange(hash);
      const c = new TestScramClient(NODE[hash], { username: 'user', password: 'pencil', nonce: 'cn' });
      const serverFirst = await challenge(ex.step(c.first()));
      const nonce = /r=([^,]+)/.exec(serverFirst.toString())![1]!;
      return { ex, c, serverFirst, nonce };
    }

    const syntax: [string, (nonce: string) => string][] = [
      ['missing proof', (n) => `c=biws,r=${n}`],
      ['proof not base64', (n) => `c=biws,r=${n},p=***`],
      ['empty proof', (n) => `c=biws,r=${n},p=`],
      ['missing channel binding', (n) => `r=${n},p=AAAA`],
      ['channel binding not base64', (n) => `c=bi!s,r=${n},p=AAAA`],
      ['missing nonce', () => 'c=biws,p=AAAA'],
      ['attributes out of order', (n) => `r=${n},c=biws,p=AAAA`],
      ['reserved m= extension', (n) => `c=biws,r=${n},m=x,p=AAAA`],
      ['malformed extension', (n) => `c=biws,r=${n},junk,p=AAAA`],
    ];
    for (const [name, make] of syntax) {
      it(`${name} → malformed-request`, async () => {
        const { ex, nonce } = await afterFirst();
        expect(await failureOf(ex.step(Buffer.from(make(nonce))))).to.equal('malformed-request');
      });
    }

    it('an empty client-final → malformed-request', async () => {
      const { ex } = await afterFirst();
      expect(await failureOf(ex.step(Buffer.alloc(0)))).to.equal('malformed-request');
    });

    it('a changed nonce → not-authorized, even with a proof computed over it', async () => {
      const { ex, c, serverFirst, nonce } = await afterFirst();
      expect(await failureOf(ex.step(c.final(serverFirst, { nonce: nonce + 'x' })))).to.equal('not-authorized');
    });

    it('the nonce without the server part → not-authorized', async () => {
      const { ex, c, serverFirst } = await afterFirst();
      expect(await failureOf(ex.step(c.final(serverFirst, { nonce: 'cn' })))).to.equal('not-authorized');
    });

    it('c= not matching the GS2 header → not-authorized', async () => {
      const { ex, c, serverFirst } = await afterFirst();
      expect(await failureOf(ex.step(c.final(serverFirst, { cb: Buffer.from('y,,').toString('base64') })))).to.equal('not-authorized');
    });

    it('a proof of the wrong length → not-authorized', async () => {
      const { ex, nonce } = await afterFirst();
      expect(await failureOf(ex.step(Buffer.from(`c=biws,r=${nonce},p=AAAA`)))).to.equal('not-authorized');
    });

    it('any step after success is refused', async () => {
      const { ex, c, serverFirst } = await afterFirst();
      expect((await ex.step(c.final(serverFirst))).kind).to.equal('success');
      expect(await failureOf(ex.step(Buffer.from('x')))).to.equal('malformed-request');
    });

    it('abort() ends the exchange with "aborted"', async () => {
      const { ex, c, serverFirst } = await afterFirst();
      expect(ex.abort().condition).to.equal('aborted');
      expect(await failureOf(ex.step(c.final(serverFirst)))).to.equal('malformed-request');
    });
  });

  describe('channel binding (RFC 5802 §6, -PLUS)', () => {
    const both = { channelBindings: { 'tls-exporter': EXPORTER, 'tls-server-end-point': END_POINT }, plusOffered: true };

    for (const hash of ['SHA-1', 'SHA-256', 'SHA-512'] as const) {
      it(`SCRAM-${hash}-PLUS with tls-exporter succeeds`, async () => {
        const { step, client } = await login(hash, { username: 'user', password: 'pencil', flag: 'p=tls-exporter', cbData: EXPORTER }, both, true);
        expect(step.kind).to.equal('success');
        expect(step.data!.toString()).to.equal(client.expectedServerFinal());
      });
    }

    it('SCRAM-SHA-256-PLUS with tls-server-end-point succeeds, with an authzid in the header', async () => {
      const { step } = await login(
        'SHA-256',
        { username: 'user', password: 'pencil', flag: 'p=tls-server-end-point', cbData: END_POINT, authzid: 'user@example.com' },
        both,
        true,
      );
      expect(step).to.deep.include({ kind: 'success', username: 'user', authzid: 'user@example.com' });
    });

    it('mismatched channel-binding data → not-authorized', async () => {
      const other = Buffer.from(EXPORTER);
      other[0]! ^= 1;
      const result = login('SHA-256', { username: 'user', password: 'pencil', flag: 'p=tls-exporter', cbData: other }, both, true);
      expect(await failureOf(result)).to.equal('not-authorized');
    });

    it('data of the other binding type → not-authorized', async () => {
      const result = login('SHA-256', { username: 'user', password: 'pencil', flag: 'p=tls-exporter', cbData: END_POINT }, both, true);
      expect(await failureOf(result)).to.equal('not-authorized');
    });

    it('the right data but no binding data in c= (header only) → not-authorized', async () => {
      const result = login('SHA-256', { username: 'user', password: 'pencil', flag: 'p=tls-exporter' }, both, true);
      expect(await failureOf(result)).to.equal('not-authorized');
    });

    it('an unknown type → malformed-request at client-first', async () => {
      const { ex, ctx } = exchange('SHA-256', both, true);
      expect(await failureOf(ex.step(Buffer.from('p=tls-unique-for-telnet,,n=user,r=abc')))).to.equal('malformed-request');
      expect(ctx.lookups).to.deep.equal([]);
    });

    it('a supported type this connection lacks → malformed-request', async () => {
      const { ex } = exchange('SHA-256', { channelBindings: { 'tls-server-end-point': END_POINT }, plusOffered: true }, true);
      expect(await failureOf(ex.step(Buffer.from('p=tls-exporter,,n=user,r=abc')))).to.equal('malformed-request');
    });

    it("'p' with a mechanism without -PLUS → malformed-request", async () => {
      const { ex } = exchange('SHA-256', both, false);
      expect(await failureOf(ex.step(Buffer.from('p=tls-exporter,,n=user,r=abc')))).to.equal('malformed-request');
    });

    for (const flag of ['n', 'y']) {
      it(`'${flag}' with a -PLUS mechanism → malformed-request`, async () => {
        const { ex } = exchange('SHA-256', both, true);
        expect(await failureOf(ex.step(Buffer.from(`${flag},,n=user,r=abc`)))).to.equal('malformed-request');
      });
    }

    it("'y' while the server offered -PLUS → not-authorized (downgrade protection)", async () => {
      const { ex, ctx } = exchange('SHA-256', both, false);
      expect(await failureOf(ex.step(Buffer.from('y,,n=user,r=abc')))).to.equal('not-authorized');
      expect(ctx.lookups).to.deep.equal([]);
    });

    it("'y' when no -PLUS was offered succeeds, with c= = base64('y,,')", async () => {
      const { step } = await login('SHA-256', { username: 'user', password: 'pencil', flag: 'y' }, { plusOffered: false });
      expect(step.kind).to.equal('success');
    });

    it("'n' succeeds on a -PLUS-offering stream with a mechanism without -PLUS", async () => {
      const { step } = await login('SHA-1', { username: 'user', password: 'pencil', flag: 'n' }, both);
      expect(step.kind).to.equal('success');
    });
  });

  describe('tls-unique (RFC 5929 §3): accepted when sasl.acceptTlsUnique, never advertised', () => {
    // 48 bytes: a TLS 1.3 Finished with SHA-384; on TLS 1.2 it is 12. The server takes it as the connection gives it.
    const UNIQUE = Buffer.from('fce5f55d795fd873fbf763374aa72bedc000d622d68bf7a665dfc473e6ece0b98fafe74291bfdd931524b8a0c5168ae5', 'hex');
    const bindings = { 'tls-exporter': EXPORTER, 'tls-server-end-point': END_POINT, 'tls-unique': UNIQUE };
    const accepting = { channelBindings: bindings, plusOffered: true, acceptTlsUnique: true };

    for (const hash of ['SHA-1', 'SHA-256', 'SHA-512'] as const) {
      it(`SCRAM-${hash}-PLUS with tls-unique succeeds when accepted, and the server signature proves the binding`, async () => {
        const { step, client } = await login(hash, { username: 'user', password: 'pencil', flag: 'p=tls-unique', cbData: UNIQUE }, accepting, true);
        expect(step).to.deep.include({ kind: 'success', username: 'user' });
        expect(step.data!.toString()).to.equal(client.expectedServerFinal());
      });
    }

    for (const [name, opts] of [
      ['sasl.acceptTlsUnique false', { channelBindings: bindings, plusOffered: true, acceptTlsUnique: false }],
      ['a context that does not say (the default of SaslContext)', { channelBindings: bindings, plusOffered: true }],
    ] as const) {
      it(`is refused with ${name}: malformed-request 'unsupported-channel-binding-type' at client-first, no lookup`, async () => {
        const { ex, ctx } = exchange('SHA-256', opts, true);
        const failure = await ex.step(Buffer.from('p=tls-unique,,n=user,r=abc')).then(
          () => expect.fail('the step succeeded'),
          (err: unknown) => err as SaslFailure,
        );
        expect(failure).to.be.instanceOf(SaslFailure);
        expect(failure).to.include({ condition: 'malformed-request', text: 'unsupported-channel-binding-type' });
        expect(ctx.lookups).to.deep.equal([]);
      });
    }

    it('a wrong tls-unique value → not-authorized (channel-bindings-dont-match)', async () => {
      const wrong = Buffer.from(UNIQUE);
      wrong[UNIQUE.length - 1]! ^= 0x80;
      const failure = await login('SHA-256', { username: 'user', password: 'pencil', flag: 'p=tls-unique', cbData: wrong }, accepting, true).then(
        () => expect.fail('the login succeeded'),
        (err: unknown) => err as SaslFailure,
      );
      expect(failure).to.include({ condition: 'not-authorized', text: 'channel-bindings-dont-match' });
    });

    it("another type's data, or a truncated value, under p=tls-unique → not-authorized", async () => {
      for (const cbData of [EXPORTER, END_POINT, UNIQUE.subarray(0, 12)]) {
        const result = login('SHA-512', { username: 'user', password: 'pencil', flag: 'p=tls-unique', cbData }, accepting, true);
        expect(await failureOf(result)).to.equal('not-authorized');
      }
    });

    it('accepted but absent on this connection (no TLS session, e.g. WebSocket) → malformed-request', async () => {
      const { ex } = exchange('SHA-256', { channelBindings: { 'tls-server-end-point': END_POINT }, plusOffered: true, acceptTlsUnique: true }, true);
      expect(await failureOf(ex.step(Buffer.from('p=tls-unique,,n=user,r=abc')))).to.equal('malformed-request');
    });

    it("does not touch the 'y' rule: 'y' with -PLUS offered is still refused as a downgrade", async () => {
      const { ex } = exchange('SHA-256', accepting, false);
      expect(await failureOf(ex.step(Buffer.from('y,,n=user,r=abc')))).to.equal('not-authorized');
    });
  });

  describe('unknown users are not revealed', () => {
    it('gets a plausible challenge and fails only at the final step with not-authorized', async () => {
      const { ex, ctx } = exchange('SHA-256', { scramIterations: 10000 });
      const c = new TestScramClient('sha256', { username: 'nobody', password: 'pencil', nonce: 'cn' });
      const serverFirst = (await challenge(ex.step(c.first()))).toString();
      expect(ctx.lookups).to.deep.equal(['nobody']);
      const m = /^r=cn[^,]+,s=([A-Za-z0-9+/=]+),i=10000$/.exec(serverFirst);
      expect(m, serverFirst).to.not.equal(null);
      expect(Buffer.from(m![1]!, 'base64')).to.have.length(16); // as long as a real salt
      expect(await failureOf(ex.step(c.final(Buffer.from(serverFirst))))).to.equal('not-authorized');
    });

    it('gives the same salt to the same unknown name each time, and different ones to different names', async () => {
      const saltOf = async (name: string, hash: 'SHA-1' | 'SHA-256' = 'SHA-256') => {
        const { ex } = exchange(hash);
        return /s=([^,]+)/.exec((await challenge(ex.step(Buffer.from(`n,,n=${name},r=x`)))).toString())![1];
      };
      const first = await saltOf('ghost');
      expect(await saltOf('ghost')).to.equal(first);
      expect(await saltOf('phantom')).to.not.equal(first);
      expect(await saltOf('ghost', 'SHA-1')).to.not.equal(first);
    });
  });

  describe('storage faults', () => {
    it('a failing credential lookup → temporary-auth-failure, keeping the error as cause', async () => {
      const fault = new Error('store down');
      const ctx = { ...makeContext(accounts), getCredentials: async () => { throw fault; } };
      const ex = new ScramExchange('SHA-256', false, ctx);
      let caught: unknown;
      try { await ex.step(Buffer.from('n,,n=user,r=abc')); } catch (err) { caught = err; }
      expect(caught).to.have.property('condition', 'temporary-auth-failure');
      expect((caught as Error).cause).to.equal(fault);
    });
  });

  describe('SASLprep of the username (RFC 4013)', () => {
    it('maps "I\\u00ADX" to "IX" before the lookup', async () => {
      const { ex, ctx } = exchange('SHA-256');
      const c = new TestScramClient('sha256', { username: 'I\u00ADX', password: 'pw', nonce: 'cn' });
      const final = await ex.step(c.final(await challenge(ex.step(c.first()))));
      expect(ctx.lookups).to.deep.equal(['IX']);
      expect(final).to.include({ kind: 'success', username: 'IX' });
    });

    it('maps "\\u00AA" to "a" before the lookup', async () => {
      const { step } = await login('SHA-1', { username: '\u00AA', password: 'pw' });
      expect(step).to.include({ kind: 'success', username: 'a' });
    });
  });
});
