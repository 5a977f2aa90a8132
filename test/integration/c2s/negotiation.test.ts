// RFC 6120 §4-§7 negotiation over a raw socket: features at each stage, STARTTLS, SASL
// failures by condition, binding and resource conflicts.
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('c2s negotiation (RFC 6120)', function () {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ config: { sasl: { throttle: { perAddress: { freeFailures: 1000 }, perAccount: { hotAfterFailures: 1000 } } } } });
    await t.addUser('alice', 'wonderland');
  });
  after(() => t.stop());

  async function secureStream(): Promise<RawClient> {
    const c = await RawClient.connect(t.c2sPort);
    await c.open();
    await c.startTls();
    return c;
  }

  it('answers the header with its own: from the host, a fresh id, version 1.0, our namespaces', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.open();
    const h = c.streamHeader!;
    expect(h.attrs).to.include({ from: 'localhost', version: '1.0', xmlns: NS.client, 'xmlns:stream': NS.stream });
    expect(h.attrs.id).to.be.a('string').with.length.greaterThan(10);
    c.destroy();
  });

  it('offers only STARTTLS, marked required, before TLS (RFC 6120 §5.3.1)', async () => {
    const c = await RawClient.connect(t.c2sPort);
    const features = await c.open();
    const children = features.getChildElements();
    expect(children.map((e) => e.name)).to.deep.equal(['starttls']);
    expect(children[0]!.attrs.xmlns).to.equal(NS.tls);
    expect(children[0]!.getChild('required')).to.not.equal(undefined);
    c.destroy();
  });

  it('after STARTTLS: a new stream id and SASL mechanisms; PLAIN only now', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.open();
    const firstId = c.streamHeader!.attrs.id;
    await c.startTls();
    const features = await c.open();
    expect(c.streamHeader!.attrs.id).to.not.equal(firstId);
    const mechs = features.getChild('mechanisms', NS.sasl)!.getChildren('mechanism').map((m) => m.getText());
    expect(mechs).to.include.members(['SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']);
    expect(mechs).to.include('SCRAM-SHA-256-PLUS');
    expect(features.getChild('starttls', NS.tls)).to.equal(undefined);
    const cb = features.getChild('sasl-channel-binding', 'urn:xmpp:sasl-cb:0');
    expect(cb?.getChildren('channel-binding').map((e) => e.attrs.type)).to.include('tls-exporter');
    c.destroy();
  });

  it('SASL before STARTTLS on a TLS-required listener fails with encryption-required', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.open();
    c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${b64('n,,n=alice,r=abc')}</auth>`);
    const failure = await c.next();
    expect(failure.name).to.equal('failure');
    expect(failure.attrs.xmlns).to.equal(NS.sasl);
    expect(failure.getChildElements()[0]!.name).to.equal('encryption-required');
    c.destroy();
  });

  const cases: [string, string, string][] = [
    ['a wrong password', `<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wrong')}</auth>`, 'not-authorized'],
    ['an unknown account', `<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0nobody\0wonderland')}</auth>`, 'not-authorized'],
    ['an unknown mechanism', `<auth xmlns='${NS.sasl}' mechanism='X-MAGIC'>${b64('x')}</auth>`, 'invalid-mechanism'],
    ['a malformed PLAIN message', `<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('alice-wonderland')}</auth>`, 'malformed-request'],
    ['a malformed SCRAM message', `<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${b64('x,,n=alice')}</auth>`, 'malformed-request'],
    ['bad base64', `<auth xmlns='${NS.sasl}' mechanism='PLAIN'>%%%</auth>`, 'incorrect-encoding'],
  ];
  for (const [what, auth, condition] of cases) {
    it(`SASL failure for ${what}: <${condition}/>`, async () => {
      const c = await secureStream();
      await c.open();
      c.send(auth);
      const failure = await c.next();
      expect(failure.name).to.equal('failure');
      expect(failure.getChildElements()[0]!.name).to.equal(condition);
      c.destroy();
    });
  }

  it('<abort/> ends an exchange with <aborted/>, and the client may try again', async () => {
    const c = await secureStream();
    await c.open();
    c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${b64('n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL')}</auth>`);
    expect((await c.next()).name).to.equal('challenge');
    c.send(`<abort xmlns='${NS.sasl}'/>`);
    const failure = await c.next();
    expect(failure.getChildElements()[0]!.name).to.equal('aborted');
    c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wonderland')}</auth>`);
    expect((await c.next()).name).to.equal('success');
    c.destroy();
  });

  it('closes the stream after the configured number of failed attempts (RFC 6120 §6.4.5)', async () => {
    const c = await secureStream();
    await c.open();
    for (let i = 0; i < 3; i++) {
      c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0bad' + i)}</auth>`);
      expect((await c.next()).name).to.equal('failure');
    }
    expect(await c.streamError()).to.equal('policy-violation');
  });

  it('makes a failing address wait, answering <temporary-auth-failure/> even to the right password', async () => {
    // Two free failures; the third makes 127.0.0.1 wait a minute (long enough for the test on a slow machine).
    const strict = await startTestServer({ config: { sasl: { throttle: { perAddress: { freeFailures: 2, baseDelaySeconds: 60 } } } } });
    try {
      await strict.addUser('alice', 'wonderland');
      for (let i = 0; i < 3; i++) {
        const c = await RawClient.connect(strict.c2sPort);
        await c.open();
        await c.startTls();
        await c.open();
        c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0bad')}</auth>`);
        expect((await c.next()).getChildElements()[0]!.name).to.equal('not-authorized');
        c.destroy();
      }
      const c = await RawClient.connect(strict.c2sPort);
      await c.open();
      await c.startTls();
      await c.open();
      c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wonderland')}</auth>`);
      expect((await c.next()).getChildElements()[0]!.name).to.equal('temporary-auth-failure');
      c.destroy();
    } finally {
      await strict.stop();
    }
  });

  it('a hot account holds back the addresses that failed on it, never a clean one', async () => {
    const strict = await startTestServer({ config: { sasl: { throttle: { perAddress: { freeFailures: 100 }, perAccount: { hotAfterFailures: 2 } } } } });
    try {
      await strict.addUser('alice', 'wonderland');
      await strict.addUser('bob', 'builder');
      const attempt = async (creds: string, localAddress: string) => {
        const c = await RawClient.connect(strict.c2sPort, { localAddress });
        await c.open();
        await c.startTls();
        await c.open();
        c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64(creds)}</auth>`);
        const result = await c.next();
        c.destroy();
        return result.name === 'success' ? 'success' : result.getChildElements()[0]!.name;
      };
      expect(await attempt('\0alice\0bad1', '127.0.0.2')).to.equal('not-authorized');
      expect(await attempt('\0ALICE\0bad2', '127.0.0.3')).to.equal('not-authorized'); // the same account, normalised
      // alice is hot: the addresses that failed on her may not try again, even with the right password...
      expect(await attempt('\0alice\0wonderland', '127.0.0.2')).to.equal('temporary-auth-failure');
      // ...other accounts from those addresses may,
      expect(await attempt('\0bob\0builder', '127.0.0.3')).to.equal('success');
      // and so may the owner from a clean address; the success cools the account down.
      expect(await attempt('\0alice\0wonderland', '127.0.0.4')).to.equal('success');
      expect(await attempt('\0alice\0wonderland', '127.0.0.2')).to.equal('success');
    } finally {
      await strict.stop();
    }
  });

  it('after SASL: bind and an optional session offered; binds a client-chosen resource', async () => {
    const c = await secureStream();
    await c.open();
    c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wonderland')}</auth>`);
    expect((await c.next()).name).to.equal('success');
    const features = await c.open();
    expect(features.getChild('bind', NS.bind)).to.not.equal(undefined);
    expect(features.getChild('session', 'urn:ietf:params:xml:ns:xmpp-session')?.getChild('optional')).to.not.equal(undefined);
    expect(features.getChild('mechanisms', NS.sasl)).to.equal(undefined);
    c.send(`<iq type='set' id='b1'><bind xmlns='${NS.bind}'><resource>Laptop</resource></bind></iq>`);
    const result = await c.next();
    expect(result.attrs).to.include({ type: 'result', id: 'b1' });
    expect(result.getChild('bind', NS.bind)!.getChildText('jid')).to.equal('alice@localhost/Laptop');
    // RFC 3921 session: accepted as a no-op.
    c.send(`<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
    const session = await c.next();
    expect(session.attrs).to.include({ type: 'result', id: 's1' });
    c.destroy();
  });

  it('generates a resource when the client asks for none', async () => {
    const c = await secureStream();
    await c.open();
    c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wonderland')}</auth>`);
    await c.next();
    await c.open();
    c.send(`<iq type='set' id='b1'><bind xmlns='${NS.bind}'/></iq>`);
    const jid = (await c.next()).getChild('bind', NS.bind)!.getChildText('jid')!;
    expect(jid).to.match(/^alice@localhost\/.{8,}$/);
    c.destroy();
  });

  it('a second session with the same full JID replaces the first with <conflict/>', async () => {
    const first = await RawClient.connect(t.c2sPort);
    await first.login('alice', 'wonderland', 'phone');
    const second = await RawClient.connect(t.c2sPort);
    expect(await second.login('alice', 'wonderland', 'phone')).to.equal('alice@localhost/phone');
    expect(await first.streamError()).to.equal('conflict');
    // The new session is the one that receives stanzas now.
    second.send(`<message to='alice@localhost/phone' id='m1'><body>to myself</body></message>`);
    const msg = await second.nextMatching((e) => e.name === 'message');
    expect(msg.getChildText('body')).to.equal('to myself');
    second.destroy();
  });

  it('a resourcepart that is not valid is refused with bad-request', async () => {
    const c = await secureStream();
    await c.open();
    c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wonderland')}</auth>`);
    await c.next();
    await c.open();
    c.send(`<iq type='set' id='b1'><bind xmlns='${NS.bind}'><resource>${'x'.repeat(1024)}</resource></bind></iq>`);
    const err = await c.next();
    expect(err.attrs.type).to.equal('error');
    expect(err.getChild('error')!.getChildElements()[0]!.name).to.equal('bad-request');
    c.destroy();
  });

  it('the client may close the stream, and the server answers with its closing tag', async () => {
    const c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'wonderland', 'closer');
    c.send('</stream:stream>');
    await c.waitClosed();
    expect(c.streamEnded).to.equal(true);
  });
});
