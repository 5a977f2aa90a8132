// SCRAM against the running server over real TLS: the independent npm client for SCRAM-SHA-1,
// and a from-the-RFC test client for SHA-256/512 and channel binding (-PLUS) with the
// connection's own tls-exporter / tls-server-end-point data.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
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
