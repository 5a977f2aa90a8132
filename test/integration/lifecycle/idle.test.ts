// Idle sessions (RFC 6120 §4.6, XEP-0199 §4.2): a bound client that says nothing for
// c2s.idleSeconds is pinged by the server; one that does not answer within
// c2s.pingTimeoutSeconds gets <connection-timeout/>; any traffic (an answer, a stanza, a
// whitespace keepalive on TCP) keeps the session.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient } from '../../support/raw-client.ts';
import { WsClient, NS_FRAMING } from '../../support/ws-client.ts';
import { parseJid } from '../../../server/jid.ts';

const NS_PING = 'urn:xmpp:ping';
const IDLE_S = 1;
const PING_TIMEOUT_S = 1;
/** Longest the server may take to ping a silent client: the idle time plus its sweep interval and slack. */
const PING_WITHIN_MS = IDLE_S * 1000 + 2000;

function isServerPing(el: Element): boolean {
  return el.name === 'iq' && el.attrs.type === 'get' && el.getChild('ping', NS_PING) !== undefined;
}

describe('idle sessions: server pings and connection-timeout', function () {
  this.timeout(30_000);
  let t: TestServer;
  const clients: { destroy?(): void; terminate?(): void }[] = [];

  before(async () => {
    t = await startTestServer({ config: { c2s: { idleSeconds: IDLE_S, pingTimeoutSeconds: PING_TIMEOUT_S } } });
    await t.addUser('alice', 'wonderland');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) (c.destroy ?? c.terminate)!.call(c);
  });
  after(() => t.stop());

  async function tcpClient(resource: string): Promise<RawClient> {
    const c = await RawClient.connect(t.c2sPort);
    clients.push(c);
    await c.login('alice', 'wonderland', resource);
    return c;
  }

  it('pings a silent bound client from the server JID (XEP-0199 §4.2)', async () => {
    const c = await tcpClient('quiet');
    const ping = await c.next(PING_WITHIN_MS);
    expect(isServerPing(ping), ping.toString()).to.equal(true);
    expect(ping.attrs).to.include({ from: 'localhost', to: 'alice@localhost/quiet' });
    expect(ping.attrs.id).to.be.a('string').and.not.equal('');
    // RFC 6120 §8.2.3: a get holds exactly one child.
    expect(ping.getChildElements()).to.have.length(1);
  });

  it('closes a client that does not answer the ping with <connection-timeout/>, and the connection ends', async () => {
    const c = await tcpClient('dead');
    const ping = await c.next(PING_WITHIN_MS);
    expect(isServerPing(ping)).to.equal(true);
    const pingedAt = Date.now();
    expect(await c.streamError(PING_TIMEOUT_S * 1000 + 3000)).to.equal('connection-timeout');
    // Not before the client had its pingTimeoutSeconds to answer (the sweep may round down by a tick).
    expect(Date.now() - pingedAt).to.be.greaterThan(PING_TIMEOUT_S * 1000 - 300);
    await c.waitClosed(4000);
    expect(t.server.sessions.get(parseJid('alice@localhost/dead'))).to.equal(undefined);
  });

  it('keeps a client that answers each ping', async () => {
    const c = await tcpClient('answering');
    // Three rounds: had any answer not counted, the stream error would arrive instead of the next ping.
    for (let round = 0; round < 3; round++) {
      const ping = await c.next(PING_WITHIN_MS + PING_TIMEOUT_S * 1000);
      expect(isServerPing(ping), `round ${round}: ${ping.toString()}`).to.equal(true);
      c.send(`<iq type='result' id='${ping.attrs.id}' to='${ping.attrs.from}'/>`);
    }
    c.send(`<iq type='get' id='alive' to='localhost'><ping xmlns='${NS_PING}'/></iq>`);
    const pong = await c.nextMatching((e) => e.attrs.id === 'alive');
    expect(pong.attrs.type).to.equal('result');
    expect(c.closed).to.equal(false);
  });

  it('keeps a TCP client that sends whitespace keepalives (RFC 6120 §4.6.1), without pinging it', async () => {
    const c = await tcpClient('keepalive');
    const keepalive = setInterval(() => c.send(' '), 250);
    try {
      // Nothing can be awaited here: the point is that nothing happens. Watch for three idle
      // periods, long enough for a ping and its timeout to have come and gone.
      const watchMs = (IDLE_S + PING_TIMEOUT_S) * 1000 + 1500;
      let received: Element | null = null;
      try {
        received = await c.next(watchMs);
      } catch {
        // Timed out with nothing received: what should happen.
      }
      expect(received?.toString() ?? null).to.equal(null);
    } finally {
      clearInterval(keepalive);
    }
    c.send(`<iq type='get' id='alive' to='localhost'><ping xmlns='${NS_PING}'/></iq>`);
    expect((await c.nextMatching((e) => e.attrs.id === 'alive')).attrs.type).to.equal('result');
  });

  it('over WebSocket: pings, then <connection-timeout/> and <close/> for a client that stays silent', async () => {
    const c = await WsClient.connect(`ws://127.0.0.1:${t.httpPort}/xmpp-websocket`);
    clients.push(c);
    const jid = await c.login('alice', 'wonderland', 'ws-quiet');
    const ping = await c.next(PING_WITHIN_MS);
    expect(isServerPing(ping), ping.toString()).to.equal(true);
    // The ping stands alone in its message, so it declares its namespace (RFC 7395 §3.3.3).
    expect(ping.attrs).to.include({ xmlns: 'jabber:client', from: 'localhost', to: jid });
    expect(await c.streamError(PING_TIMEOUT_S * 1000 + 3000)).to.equal('connection-timeout');
    c.send(`<close xmlns='${NS_FRAMING}'/>`);
    expect((await c.waitClosed()).code).to.equal(1000);
  });

  it('over WebSocket: keeps a client that answers the ping', async () => {
    const c = await WsClient.connect(`ws://127.0.0.1:${t.httpPort}/xmpp-websocket`);
    clients.push(c);
    await c.login('alice', 'wonderland', 'ws-answering');
    for (let round = 0; round < 2; round++) {
      const ping = await c.next(PING_WITHIN_MS + PING_TIMEOUT_S * 1000);
      expect(isServerPing(ping), ping.toString()).to.equal(true);
      c.send(`<iq type='result' id='${ping.attrs.id}' to='${ping.attrs.from}'/>`);
    }
    c.send(`<iq type='get' id='alive' to='localhost'><ping xmlns='${NS_PING}'/></iq>`);
    expect((await c.nextMatching((e) => e.attrs.id === 'alive')).attrs.type).to.equal('result');
    expect(c.isClosed).to.equal(false);
  });
});
