// XMPP over WebSocket (RFC 7395) over a raw `ws` client: the handshake, the framed stream
// (<open/>/<close/>, one standalone element per message), SASL and binding, closing in both
// directions, and the stream errors a message can provoke.
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { WsClient, NS_FRAMING, tryHandshake } from '../../support/ws-client.ts';
import { parseJid } from '../../../server/jid.ts';
import ScramSha1 from 'sasl-scram-sha-1';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const OPEN = `<open xmlns='${NS_FRAMING}' to='localhost' version='1.0'/>`;
const CLOSE = `<close xmlns='${NS_FRAMING}'/>`;
const MAX_STANZA = 4096;

describe('XMPP over WebSocket (RFC 7395)', function () {
  let t: TestServer;
  let url: string;
  const clients: { terminate(): void }[] = [];
  const rawClients: RawClient[] = [];

  before(async () => {
    t = await startTestServer({ config: { c2s: { maxStanzaBytes: MAX_STANZA } } });
    url = `ws://127.0.0.1:${t.httpPort}/xmpp-websocket`;
    await t.addUser('alice', 'wonderland');
    await t.addUser('bob', 'builder');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.terminate();
    for (const c of rawClients.splice(0)) c.destroy();
  });
  after(() => t.stop());

  async function connect(): Promise<WsClient> {
    const c = await WsClient.connect(url);
    clients.push(c);
    return c;
  }

  /** Send the messages after a connect; return the stream error's condition after checking <close/> follows it. */
  async function errorFor(...messages: string[]): Promise<string> {
    const c = await connect();
    for (const m of messages) c.send(m);
    const condition = await c.streamError();
    // Answer the server's <close/> as a client should (§3.6); the server then closes the WebSocket.
    c.send(CLOSE);
    await c.waitClosed(1500);
    return condition;
  }

  describe('opening handshake (§3.1)', () => {
    it('refuses an upgrade that does not offer the xmpp subprotocol with HTTP 400', async () => {
      expect(await tryHandshake(url)).to.deep.equal({ status: 400 });
      expect(await tryHandshake(url, 'chat')).to.deep.equal({ status: 400 });
    });

    it('selects xmpp when offered, also among other subprotocols', async () => {
      expect(await tryHandshake(url, 'xmpp')).to.deep.equal({ status: 101, protocol: 'xmpp' });
      expect(await tryHandshake(url, ['chat', 'xmpp'])).to.deep.equal({ status: 101, protocol: 'xmpp' });
    });

    it('answers 404 for an upgrade on another path', async () => {
      expect((await tryHandshake(`ws://127.0.0.1:${t.httpPort}/websocket`, 'xmpp')).status).to.equal(404);
      expect((await tryHandshake(`${url}/more`, 'xmpp')).status).to.equal(404);
    });
  });

  describe('stream initiation (§3.4) and frames (§3.3.3)', () => {
    it('answers <open/> with its own <open/> and then <stream:features>, each one standalone message', async () => {
      const c = await connect();
      c.send(OPEN);
      const open = await c.next();
      // RFC 7395 §3.4 → RFC 6120 §4.7: from the host, a fresh id, version 1.0, the default language.
      expect(open.name).to.equal('open');
      expect(open.attrs.xmlns).to.equal(NS_FRAMING);
      expect(open.attrs).to.include({ from: 'localhost', version: '1.0' });
      expect(open.attrs.id).to.be.a('string').with.length.greaterThan(10);
      expect(open.attrs['xml:lang']).to.be.a('string').and.not.equal('');
      expect(open.children).to.deep.equal([]);
      const features = await c.next();
      expect(features.name).to.equal('stream:features');
      // §3.3.3: no stream header declares the prefix for it, so the message itself must.
      expect(features.attrs['xmlns:stream']).to.equal(NS.stream);
      expect(features.getChild('mechanisms', NS.sasl)).to.not.equal(undefined);
      expect(c.messages).to.have.length(2);
      expect(c.framingViolations).to.deep.equal([]);
    });

    it("puts the client's 'from' into the 'to' of its <open/> (RFC 6120 §4.7.2)", async () => {
      const c = await connect();
      c.send(`<open xmlns='${NS_FRAMING}' to='localhost' from='alice@localhost' version='1.0'/>`);
      const open = await c.next();
      expect(open.attrs).to.include({ from: 'localhost', to: 'alice@localhost' });
    });

    it('offers SCRAM but neither PLAIN nor -PLUS mechanisms on an unencrypted ws:// connection', async () => {
      const c = await connect();
      const { features } = await c.open();
      const mechs = features.getChild('mechanisms', NS.sasl)!.getChildren('mechanism').map((m) => m.getText());
      expect(mechs).to.include.members(['SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
      expect(mechs).to.not.include('PLAIN');
      // No TLS session, so nothing to bind a channel to.
      expect(mechs.filter((m) => m.endsWith('-PLUS'))).to.deep.equal([]);
      expect(features.getChild('sasl-channel-binding', 'urn:xmpp:sasl-cb:0')).to.equal(undefined);
      // Nor STARTTLS: it does not exist on WebSocket.
      expect(features.getChild('starttls', NS.tls)).to.equal(undefined);
    });

    it('refuses PLAIN on ws:// with <encryption-required/> (RFC 6120 §6.5.4)', async () => {
      const c = await connect();
      await c.open();
      c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wonderland')}</auth>`);
      const failure = await c.next();
      expect(failure.name).to.equal('failure');
      expect(failure.attrs.xmlns).to.equal(NS.sasl);
      expect(failure.getChildElements()[0]!.name).to.equal('encryption-required');
    });

    it('SCRAM-SHA-1, a restart with a new <open/> and a new stream id, then bind', async () => {
      const c = await connect();
      const first = await c.open();
      // WsClient.login does all of this; spelled out here to check each step.
      const scram = new ScramSha1();
      const cred = { username: 'alice', password: 'wonderland' };
      c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${b64(String(scram.response(cred)))}</auth>`);
      const challenge = await c.next();
      expect(challenge.name).to.equal('challenge');
      expect(challenge.attrs.xmlns).to.equal(NS.sasl);
      scram.challenge(Buffer.from(challenge.getText(), 'base64').toString());
      c.send(`<response xmlns='${NS.sasl}'>${b64(await scram.response(cred))}</response>`);
      const success = await c.next();
      expect(success.name).to.equal('success');
      expect(Buffer.from(success.getText(), 'base64').toString()).to.match(/^v=/);
      // §3.7: the restart is a new <open/>; the client sends no <close/>.
      const second = await c.open();
      expect(second.open.attrs.id).to.not.equal(first.open.attrs.id);
      expect(second.features.attrs['xmlns:stream']).to.equal(NS.stream);
      expect(second.features.getChild('mechanisms', NS.sasl)).to.equal(undefined);
      expect(second.features.getChild('bind', NS.bind)).to.not.equal(undefined);
      c.send(`<iq type='set' id='b1'><bind xmlns='${NS.bind}'><resource>tab</resource></bind></iq>`);
      const bound = await c.next();
      expect(bound.name).to.equal('iq');
      // Every stanza message declares its namespace: it cannot inherit one from a stream header.
      expect(bound.attrs).to.include({ xmlns: NS.client, type: 'result', id: 'b1' });
      const jid = bound.getChild('bind', NS.bind)!.getChildText('jid');
      expect(jid).to.equal('alice@localhost/tab');
      expect(c.framingViolations).to.deep.equal([]);
    });

    it('exchanges messages with a user connected over TCP; the server stamps from', async () => {
      const a = await connect();
      expect(await a.login('alice', 'wonderland', 'web')).to.equal('alice@localhost/web');
      const b = await RawClient.connect(t.c2sPort);
      rawClients.push(b);
      expect(await b.login('bob', 'builder', 'desk')).to.equal('bob@localhost/desk');

      a.send(`<message to='bob@localhost/desk' type='chat' id='m1'><body>Hi Bob &lt;3</body></message>`);
      const got = await b.nextMatching((e) => e.name === 'message');
      expect(got.attrs).to.include({ from: 'alice@localhost/web', to: 'bob@localhost/desk', type: 'chat', id: 'm1' });
      expect(got.getChildText('body')).to.equal('Hi Bob <3');

      b.send(`<message to='alice@localhost/web' type='chat' id='m2'><body>Hi Alice</body></message>`);
      const reply = await a.nextMatching((e) => e.name === 'message');
      expect(reply.attrs).to.include({ xmlns: NS.client, from: 'bob@localhost/desk', to: 'alice@localhost/web', type: 'chat', id: 'm2' });
      expect(reply.getChildText('body')).to.equal('Hi Alice');

      // A stanza written with its namespace explicit (prefix-free canonicalisation) is the same stanza.
      a.send(`<message xmlns='jabber:client' to='bob@localhost/desk' type='chat' id='m3'><body>again</body></message>`);
      const again = await b.nextMatching((e) => e.name === 'message' && e.attrs.id === 'm3');
      expect(again.attrs.from).to.equal('alice@localhost/web');
      expect(a.framingViolations).to.deep.equal([]);
    });

    it('answers an IQ from a bound client (ping to the server)', async () => {
      const c = await connect();
      await c.login('alice', 'wonderland', 'pinger');
      c.send(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      const pong = await c.nextMatching((e) => e.attrs.id === 'p1');
      expect(pong.attrs).to.include({ xmlns: NS.client, type: 'result', from: 'localhost', to: 'alice@localhost/pinger' });
    });
  });

  describe('closing (§3.6)', () => {
    it('client <close/>: the server answers <close/>, ends the session and the WebSocket closes normally', async () => {
      const c = await connect();
      await c.login('alice', 'wonderland', 'leaving');
      expect(t.server.sessions.get(parseJid('alice@localhost/leaving'))).to.not.equal(undefined);
      c.send(CLOSE);
      const close = await c.next();
      expect(close.name).to.equal('close');
      expect(close.attrs.xmlns).to.equal(NS_FRAMING);
      expect((await c.waitClosed()).code).to.equal(1000);
      expect(t.server.sessions.get(parseJid('alice@localhost/leaving'))).to.equal(undefined);
    });

    it('server-initiated close: the stream error, then <close/>, and the WebSocket closes once the client answers <close/>', async () => {
      const c = await connect();
      await c.login('alice', 'wonderland', 'broken');
      c.send(`<message to='bob@localhost'><body>x</bodi></message>`);
      const error = await c.next();
      expect(error.name).to.equal('stream:error');
      expect(error.attrs['xmlns:stream']).to.equal(NS.stream);
      expect(error.getChild('not-well-formed', NS.streams)).to.not.equal(undefined);
      const close = await c.next();
      expect(close.is('close', NS_FRAMING)).to.equal(true);
      expect(c.isClosed).to.equal(false);
      const answeredAt = Date.now();
      c.send(CLOSE);
      expect((await c.waitClosed()).code).to.equal(1000);
      // The server acted on our <close/>, rather than dropping the connection after its grace period (2 s).
      expect(Date.now() - answeredAt).to.be.lessThan(1000);
      expect(t.server.sessions.get(parseJid('alice@localhost/broken'))).to.equal(undefined);
    });

    it('a WebSocket closed without <close/> ends the session all the same (implicit close)', async () => {
      const c = await connect();
      await c.login('alice', 'wonderland', 'vanishing');
      const full = parseJid('alice@localhost/vanishing');
      expect(t.server.sessions.get(full)).to.not.equal(undefined);
      c.ws.close(1001);
      await c.waitClosed();
      // The server learns of the close asynchronously and exposes no event for it: poll briefly.
      const deadline = Date.now() + 2000;
      while (t.server.sessions.get(full) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(t.server.sessions.get(full)).to.equal(undefined);
    });

    it('a client that never answers <close/> is disconnected anyway', async () => {
      const c = await connect();
      c.send(OPEN);
      c.send('<presence><status>x</presence>');
      expect(await c.streamError()).to.equal('not-well-formed');
      await c.waitClosed(4000);
    });
  });

  describe('stream errors (§3.5)', () => {
    it('host-unknown for an <open/> to a host not served: an <open/> first, then the error and <close/>', async () => {
      const c = await connect();
      c.send(`<open xmlns='${NS_FRAMING}' to='nowhere.example' version='1.0'/>`);
      const open = await c.next();
      expect(open.is('open', NS_FRAMING)).to.equal(true);
      expect(open.attrs.version).to.equal('1.0');
      expect(await c.streamError()).to.equal('host-unknown');
      expect(c.messages).to.have.length(3);
    });

    it('invalid-namespace for an <open/> that is not in the framing namespace (§3.3.2)', async () => {
      expect(await errorFor(`<open xmlns='jabber:client' to='localhost' version='1.0'/>`)).to.equal('invalid-namespace');
      expect(await errorFor(`<open xmlns='${NS.stream}' to='localhost' version='1.0'/>`)).to.equal('invalid-namespace');
    });

    it('not-well-formed for a message that is not well-formed XML', async () => {
      expect(await errorFor(OPEN, `<message to='bob@localhost'><body>x</bodi></message>`)).to.equal('not-well-formed');
      expect(await errorFor(OPEN, `<message to="a@localhost" to="b@localhost"/>`)).to.equal('not-well-formed');
      expect(await errorFor(OPEN, 'hello')).to.equal('not-well-formed');
      // §3.3.3: an element split across messages is not a complete element.
      expect(await errorFor(OPEN, `<message to='bob@localhost'><body>part one`)).to.equal('not-well-formed');
      // §3.8: whitespace keepalives do not exist on WebSocket; a message must start with '<'.
      expect(await errorFor(OPEN, ' ')).to.equal('not-well-formed');
    });

    it('not-well-formed for two elements in one message', async () => {
      // §3.3.3: a message is one complete XML element parsed as a standalone document, and a
      // document has exactly one root element (XML 1.0 §2.1), so a second element makes the
      // message ill-formed: RFC 6120 §4.9.3.13.
      expect(await errorFor(OPEN, `<presence/><presence/>`)).to.equal('not-well-formed');
    });

    it('restricted-xml for a comment in a message (RFC 6120 §11.1)', async () => {
      expect(await errorFor(OPEN, `<!-- hi --><presence/>`)).to.equal('restricted-xml');
    });

    it('policy-violation for a message over the stanza size limit', async () => {
      const c = await connect();
      await c.login('alice', 'wonderland', 'big');
      c.send(`<message to='bob@localhost'><body>${'x'.repeat(MAX_STANZA + 100)}</body></message>`);
      expect(await c.streamError()).to.equal('policy-violation');
    });

    it('a message far beyond the limit is refused by the WebSocket layer itself (close 1009)', async () => {
      // Such a message is cut off at its frame header, before any of it reaches the XMPP layer,
      // so the WebSocket closes with 1009 "message too big" (RFC 6455 §7.4.1) and no stream error.
      const c = await connect();
      await c.open();
      c.send(`<message to='bob@localhost'><body>${'x'.repeat(MAX_STANZA * 4)}</body></message>`);
      expect((await c.waitClosed()).code).to.equal(1009);
    });
  });

  describe('behind a TLS-terminating proxy (secureProxy)', () => {
    let proxied: TestServer;
    before(async () => {
      proxied = await startTestServer({ config: { listeners: [{ type: 'http', address: '127.0.0.1', port: 0, secureProxy: true }] } });
      await proxied.addUser('alice', 'wonderland');
    });
    after(() => proxied.stop());

    it('counts the connection as encrypted: PLAIN is offered and works', async () => {
      const c = await WsClient.connect(`ws://127.0.0.1:${proxied.httpPort}/xmpp-websocket`);
      clients.push(c);
      const { features } = await c.open();
      const mechs = features.getChild('mechanisms', NS.sasl)!.getChildren('mechanism').map((m) => m.getText());
      expect(mechs).to.include('PLAIN');
      c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64('\0alice\0wonderland')}</auth>`);
      expect((await c.next()).name).to.equal('success');
    });
  });
});
