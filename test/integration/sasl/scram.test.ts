// SCRAM against the running server over real TLS: the independent npm client for SCRAM-SHA-1,
// and a from-the-RFC test client for SHA-256/512 and channel binding (-PLUS) with the
// connection's own tls-exporter / tls-server-end-point data.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type * as tls from 'node:tls';
import type { Element } from 'ltx';
import ScramSha1 from 'sasl-scram-sha-1';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { TestScramClient, type NodeHash } from '../../support/scram-test-client.ts';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

describe('SCRAM over a real stream (RFC 5802, RFC 7677, RFC 9266)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await t.addUser('juliet', 'r0m30myr0m30');
  });
  after(() => t.stop());

  async function secure(): Promise<RawClient> {
    const c = await RawClient.connect(t.c2sPort);
    await c.open();
    await c.startTls();
    await c.open();
    return c;
  }

  it('SCRAM-SHA-1 with the sasl-scram-sha-1 npm client, then the stream restarts into binding', async () => {
    const c = await secure();
    const client = new ScramSha1();
    const cred = { username: 'juliet', password: 'r0m30myr0m30' };
    c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${b64(String(client.response(cred)))}</auth>`);
    const challenge = await c.next();
    expect(challenge.name).to.equal('challenge');
    client.challenge(Buffer.from(challenge.getText(), 'base64').toString());
    c.send(`<response xmlns='${NS.sasl}'>${b64(await client.response(cred))}</response>`);
    const success = await c.next();
    expect(success.name).to.equal('success');
    // The npm client checks v= when given the server-final message; a wrong signature throws.
    client.challenge(Buffer.from(success.getText(), 'base64').toString());
    const features = await c.open();
    expect(features.getChild('bind', NS.bind)).to.not.equal(undefined);
    c.destroy();
  });

  const variants: [string, NodeHash, 'tls-exporter' | 'tls-server-end-point' | null][] = [
    ['SCRAM-SHA-256', 'sha256', null],
    ['SCRAM-SHA-512', 'sha512', null],
    ['SCRAM-SHA-256-PLUS', 'sha256', 'tls-exporter'],
    ['SCRAM-SHA-512-PLUS', 'sha512', 'tls-exporter'],
    ['SCRAM-SHA-1-PLUS', 'sha1', 'tls-server-end-point'],
  ];
  for (const [mechanism, hash, cb] of variants) {
    it(`${mechanism}${cb ? ` with ${cb}` : ''}: success carries the right server signature`, async () => {
      const c = await secure();
      const socket = c.tlsSocket!;
      let cbData: Buffer | undefined;
      if (cb === 'tls-exporter') cbData = socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
      if (cb === 'tls-server-end-point') {
        // RFC 5929 §4.1 from the client's side: our test certificate is ECDSA with SHA-256.
        cbData = createHash('sha256').update(socket.getPeerX509Certificate()!.raw).digest();
      }
      const client = new TestScramClient(hash, { username: 'juliet', password: 'r0m30myr0m30', nonce: 'rOprNGfwEbeRWgbNEkqO', flag: cb ? `p=${cb}` : 'n', cbData });
      c.send(`<auth xmlns='${NS.sasl}' mechanism='${mechanism}'>${b64(client.first())}</auth>`);
      const challenge = await c.next();
      expect(challenge.name, challenge.toString()).to.equal('challenge');
      c.send(`<response xmlns='${NS.sasl}'>${b64(client.final(Buffer.from(challenge.getText(), 'base64')))}</response>`);
      const success = await c.next();
      expect(success.name, success.toString()).to.equal('success');
      expect(Buffer.from(success.getText(), 'base64').toString()).to.equal(client.expectedServerFinal());
      c.destroy();
    });
  }

  it('-PLUS with channel-binding data of another connection fails with not-authorized (a MITM relaying SCRAM)', async () => {
    const other = await secure();
    const stolen = other.tlsSocket!.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
    other.destroy();
    const c = await secure();
    const client = new TestScramClient('sha256', { username: 'juliet', password: 'r0m30myr0m30', nonce: 'abcdefghijklmnop', flag: 'p=tls-exporter', cbData: stolen });
    c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-256-PLUS'>${b64(client.first())}</auth>`);
    const challenge = await c.next();
    c.send(`<response xmlns='${NS.sasl}'>${b64(client.final(Buffer.from(challenge.getText(), 'base64')))}</response>`);
    const failure = await c.next();
    expect(failure.name).to.equal('failure');
    expect(failure.getChildElements()[0]!.name).to.equal('not-authorized');
    c.destroy();
  });

  it("the 'y' flag while the server offers -PLUS is a downgrade and fails (RFC 5802 §6)", async () => {
    const c = await secure();
    const client = new TestScramClient('sha256', { username: 'juliet', password: 'r0m30myr0m30', nonce: 'abcdefghijklmnop', flag: 'y' });
    c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-256'>${b64(client.first())}</auth>`);
    const failure = await c.next();
    expect(failure.name).to.equal('failure');
    expect(failure.getChildElements()[0]!.name).to.equal('not-authorized');
    c.destroy();
  });

  it('an unknown user gets a challenge like anyone else and fails only at the end', async () => {
    const c = await secure();
    const client = new TestScramClient('sha256', { username: 'nobody', password: 'x', nonce: 'abcdefghijklmnop' });
    c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-256'>${b64(client.first())}</auth>`);
    const challenge = await c.next();
    expect(challenge.name).to.equal('challenge');
    expect(Buffer.from(challenge.getText(), 'base64').toString()).to.match(/^r=abcdefghijklmnop[^,]+,s=[^,]+,i=4096$/);
    c.send(`<response xmlns='${NS.sasl}'>${b64(client.final(Buffer.from(challenge.getText(), 'base64')))}</response>`);
    expect((await c.next()).getChildElements()[0]!.name).to.equal('not-authorized');
    c.destroy();
  });
});

// COMPAT(slixmpp 1.8.3, CPython ssl): -PLUS bound with tls-unique, which XEP-0440 never lists;
// on TLS 1.3 as OpenSSL computes it (server/tls/channel-binding.ts tlsUnique).
describe('SCRAM-*-PLUS with tls-unique over a real stream (sasl.acceptTlsUnique)', () => {
  const password = 'r0m30myr0m30';
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await t.addUser('juliet', password);
  });
  after(() => t.stop());

  type Transport = { directTls: boolean; tls: tls.ConnectionOptions };

  /** A stream under TLS, ready for SASL, and the features the server offered there. */
  async function secure(server: TestServer, { directTls, tls: options }: Transport): Promise<{ c: RawClient; features: Element }> {
    if (directTls) {
      const c = await RawClient.connect(server.directTlsPort, { directTls: true, tls: options });
      return { c, features: await c.open() };
    }
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    await c.startTls('localhost', options);
    return { c, features: await c.open() };
  }

  /** Runs SCRAM with `flag` and `cbData`; resolves to the server's last answer. */
  async function scram(c: RawClient, mechanism: string, hash: NodeHash, flag: string, cbData?: Buffer): Promise<{ answer: Element; client: TestScramClient }> {
    const client = new TestScramClient(hash, { username: 'juliet', password, nonce: 'slixmppLikeNonce0123', flag, cbData });
    c.send(`<auth xmlns='${NS.sasl}' mechanism='${mechanism}'>${b64(client.first())}</auth>`);
    const challenge = await c.next();
    if (challenge.name !== 'challenge') return { answer: challenge, client };
    c.send(`<response xmlns='${NS.sasl}'>${b64(client.final(Buffer.from(challenge.getText(), 'base64')))}</response>`);
    return { answer: await c.next(), client };
  }

  function expectSuccess({ answer, client }: { answer: Element; client: TestScramClient }): void {
    expect(answer.name, answer.toString()).to.equal('success');
    // v= verified: the server bound the exchange to the same bytes as the client (mutual auth).
    expect(Buffer.from(answer.getText(), 'base64').toString()).to.equal(client.expectedServerFinal());
  }

  const advertised = (features: Element) =>
    features.getChild('sasl-channel-binding', 'urn:xmpp:sasl-cb:0')?.getChildren('channel-binding').map((e) => e.attrs.type);

  for (const [name, transport, mechanism, hash] of [
    ['STARTTLS, TLS 1.3', { directTls: false, tls: {} }, 'SCRAM-SHA-512-PLUS', 'sha512'],
    ['direct TLS, TLS 1.3', { directTls: true, tls: {} }, 'SCRAM-SHA-256-PLUS', 'sha256'],
    ['STARTTLS, TLS 1.2', { directTls: false, tls: { maxVersion: 'TLSv1.2' } }, 'SCRAM-SHA-1-PLUS', 'sha1'],
    ['direct TLS, TLS 1.2', { directTls: true, tls: { maxVersion: 'TLSv1.2' } }, 'SCRAM-SHA-512-PLUS', 'sha512'],
  ] as const) {
    it(`${name}: ${mechanism} with the client's Finished (a full handshake) succeeds; XEP-0440 does not list tls-unique`, async () => {
      const { c, features } = await secure(t, transport);
      const socket = c.tlsSocket!;
      const tls13 = socket.getProtocol() === 'TLSv1.3';
      expect(socket.getProtocol()).to.equal(name.endsWith('1.3') ? 'TLSv1.3' : 'TLSv1.2');
      expect(advertised(features)).to.deep.equal(tls13 ? ['tls-exporter', 'tls-server-end-point'] : ['tls-server-end-point']);
      expect(features.getChild('mechanisms', NS.sasl)!.getChildren('mechanism').map((m) => m.getText())).to.include(mechanism);
      expect(socket.isSessionReused()).to.equal(false);
      expectSuccess(await scram(c, mechanism, hash, 'p=tls-unique', socket.getFinished()!));
      expect((await c.open()).getChild('bind', NS.bind)).to.not.equal(undefined);
      c.destroy();
    });
  }

  for (const [name, transport] of [
    ['direct TLS, TLS 1.3', { directTls: true, tls: {} }],
    ['STARTTLS, TLS 1.2', { directTls: false, tls: { maxVersion: 'TLSv1.2' } }],
  ] as const) {
    it(`${name}, resumed session: the server's Finished succeeds, the client's own is refused`, async () => {
      const first = await secure(t, transport);
      const session = await first.c.tlsSession();
      first.c.destroy();
      const resumedOnce = async () => {
        const { c } = await secure(t, { directTls: transport.directTls, tls: { ...transport.tls, session } });
        expect(c.tlsSocket!.isSessionReused()).to.equal(true);
        return c;
      };
      const right = await resumedOnce();
      expectSuccess(await scram(right, 'SCRAM-SHA-256-PLUS', 'sha256', 'p=tls-unique', right.tlsSocket!.getPeerFinished()!));
      right.destroy();
      const wrong = await resumedOnce();
      const { answer } = await scram(wrong, 'SCRAM-SHA-256-PLUS', 'sha256', 'p=tls-unique', wrong.tlsSocket!.getFinished()!);
      expect(answer.name).to.equal('failure');
      expect(answer.getChildElements()[0]!.name).to.equal('not-authorized');
      wrong.destroy();
    });
  }

  it('tls-unique of another connection fails with not-authorized (a MITM relaying SCRAM)', async () => {
    const other = await secure(t, { directTls: false, tls: {} });
    const stolen = other.c.tlsSocket!.getFinished()!;
    other.c.destroy();
    const { c } = await secure(t, { directTls: false, tls: {} });
    const { answer } = await scram(c, 'SCRAM-SHA-256-PLUS', 'sha256', 'p=tls-unique', stolen);
    expect(answer.name).to.equal('failure');
    expect(answer.getChildElements().map((e) => e.name)).to.deep.equal(['not-authorized', 'text']);
    expect(answer.getChildText('text')).to.equal('channel-bindings-dont-match');
    c.destroy();
  });

  describe('with sasl.acceptTlsUnique: false', () => {
    let strict: TestServer;
    before(async () => {
      strict = await startTestServer({ config: { sasl: { acceptTlsUnique: false } } });
      await strict.addUser('juliet', password);
    });
    after(() => strict.stop());

    it("p=tls-unique fails at once with malformed-request 'unsupported-channel-binding-type'; tls-exporter still binds", async () => {
      const { c, features } = await secure(strict, { directTls: false, tls: {} });
      expect(advertised(features)).to.deep.equal(['tls-exporter', 'tls-server-end-point']);
      const { answer } = await scram(c, 'SCRAM-SHA-512-PLUS', 'sha512', 'p=tls-unique', c.tlsSocket!.getFinished()!);
      expect(answer.name).to.equal('failure');
      expect(answer.getChildElements()[0]!.name).to.equal('malformed-request');
      expect(answer.getChildText('text')).to.equal('unsupported-channel-binding-type');
      const exporter = c.tlsSocket!.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
      expectSuccess(await scram(c, 'SCRAM-SHA-512-PLUS', 'sha512', 'p=tls-exporter', exporter));
      c.destroy();
    });
  });
});
