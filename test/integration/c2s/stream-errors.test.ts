// RFC 6120 §4.9 stream errors, each provoked over a raw socket; after each, the server must
// still serve other sessions.
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, header, NS } from '../../support/raw-client.ts';

describe('c2s stream errors (RFC 6120 §4.9)', function () {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { c2s: { maxStanzaBytes: 4096 } } });
    await t.addUser('alice', 'wonderland');
  });
  after(() => t.stop());

  /** After every error, a fresh session must still log in and get a ping answered. */
  afterEach(async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'wonderland', `check-${Date.now()}`);
    c.send(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const pong = await c.nextMatching((e) => e.attrs.id === 'p1');
    expect(pong.attrs.type).to.equal('result');
    c.destroy();
  });

  async function errorFor(input: string | Buffer): Promise<string> {
    const c = await RawClient.connect(t.c2sPort);
    if (typeof input === 'string') c.send(input);
    else c.sendBytes(input);
    const condition = await c.streamError();
    // Answer the server's closing tag as a client should (RFC 6120 §4.4); the server then closes at once.
    c.send('</stream:stream>');
    await c.waitClosed(1000);
    return condition;
  }

  it('host-unknown for a domain the server does not serve', async () => {
    expect(await errorFor(header('nowhere.example'))).to.equal('host-unknown');
  });

  it('host-unknown when the header has no to', async () => {
    expect(await errorFor(`<stream:stream version='1.0' xmlns='jabber:client' xmlns:stream='${NS.stream}'>`)).to.equal('host-unknown');
  });

  it('invalid-namespace for a wrong streams namespace', async () => {
    expect(await errorFor(`<stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='urn:wrong'>`)).to.equal('invalid-namespace');
  });

  it('invalid-namespace for a content namespace other than jabber:client', async () => {
    expect(await errorFor(`<stream:stream to='localhost' version='1.0' xmlns='jabber:server' xmlns:stream='${NS.stream}'>`)).to.equal('invalid-namespace');
  });

  it('bad-namespace-prefix when the streams namespace is not written with the stream prefix', async () => {
    expect(await errorFor(`<s:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:s='${NS.stream}'>`)).to.equal('bad-namespace-prefix');
  });

  it('unsupported-version for version 2.0 and for a missing version', async () => {
    expect(await errorFor(`<stream:stream to='localhost' version='2.0' xmlns='jabber:client' xmlns:stream='${NS.stream}'>`)).to.equal('unsupported-version');
    expect(await errorFor(`<stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='${NS.stream}'>`)).to.equal('unsupported-version');
  });

  it('the error stream starts with a header of our own (RFC 6120 §4.9.1.2)', async () => {
    const c = await RawClient.connect(t.c2sPort);
    c.send(header('nowhere.example'));
    const root = await c.opened();
    expect(root.name).to.equal('stream:stream');
    expect(root.attrs['xmlns:stream']).to.equal(NS.stream);
    expect(await c.streamError()).to.equal('host-unknown');
    c.destroy();
  });

  it('not-well-formed for ill-formed XML', async () => {
    expect(await errorFor(header() + `<message to='a@localhost'><body>x</bodi></message>`)).to.equal('not-well-formed');
    expect(await errorFor(header() + `<message to="a@localhost" to="b@localhost"/>`)).to.equal('not-well-formed');
  });

  it('not-well-formed for invalid UTF-8', async () => {
    expect(await errorFor(Buffer.concat([Buffer.from(header() + '<presence><status>'), Buffer.from([0xc3, 0x28]), Buffer.from('</status></presence>')]))).to.equal('not-well-formed');
  });

  it('restricted-xml for comments, processing instructions, DTDs and undeclared entities (RFC 6120 §11.1)', async () => {
    expect(await errorFor(header() + '<!-- hello -->')).to.equal('restricted-xml');
    expect(await errorFor(header() + '<?php echo 1 ?>')).to.equal('restricted-xml');
    expect(await errorFor(`<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>` + header().replace("<?xml version='1.0'?>", ''))).to.equal('restricted-xml');
    expect(await errorFor(header() + '<message><body>&nbsp;</body></message>')).to.equal('restricted-xml');
  });

  it('policy-violation for a stanza above the size limit, detected while it arrives', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'wonderland', 'big');
    c.send(`<message to='alice@localhost'><body>${'x'.repeat(5000)}</body></message>`);
    expect(await c.streamError()).to.equal('policy-violation');
  });

  it('not-authorized for a stanza before authentication', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.open();
    await c.startTls();
    await c.open();
    c.send(`<message to='alice@localhost'><body>hi</body></message>`);
    expect(await c.streamError()).to.equal('not-authorized');
  });

  it('not-authorized for a stanza before a resource is bound', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.open();
    await c.startTls();
    await c.open();
    c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${Buffer.from('\0alice\0wonderland').toString('base64')}</auth>`);
    expect((await c.next()).name).to.equal('success');
    await c.open();
    c.send(`<message to='alice@localhost'><body>hi</body></message>`);
    expect(await c.streamError()).to.equal('not-authorized');
  });

  it('invalid-from when a client claims another address (RFC 6120 §8.1.2.1)', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'wonderland', 'spoof');
    c.send(`<message from='bob@localhost/x' to='alice@localhost'><body>hi</body></message>`);
    expect(await c.streamError()).to.equal('invalid-from');
  });

  it('unsupported-stanza-type for an unknown top-level element', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'wonderland', 'weird');
    c.send(`<foo/>`);
    expect(await c.streamError()).to.equal('unsupported-stanza-type');
  });

  it('connection-timeout when authentication does not finish in time', async () => {
    const slow = await startTestServer({ config: { c2s: { authTimeoutSeconds: 1 } } });
    try {
      const c = await RawClient.connect(slow.c2sPort);
      await c.open();
      expect(await c.streamError(4000)).to.equal('connection-timeout');
    } finally {
      await slow.stop();
    }
  });
});
