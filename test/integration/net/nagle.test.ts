// Each stanza the server writes must leave at once (TCP_NODELAY). With Nagle's algorithm a
// small write waits while an earlier one is unacknowledged, and a client that talks back
// quickly (Linux then delays its ACKs to piggyback them) acknowledges only after its
// delayed-ACK timer, 40 ms or more: the second of two stanzas written together arrives late.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient } from '../../support/raw-client.ts';
import { WsClient } from '../../support/ws-client.ts';

const NS_PING = 'urn:xmpp:ping';

describe('c2s sockets send without Nagle delay (TCP_NODELAY)', function () {
  this.timeout(20_000);
  let t: TestServer;
  const clients: { destroy?(): void; terminate?(): void }[] = [];

  before(async () => {
    t = await startTestServer();
    await t.addUser('alice', 'wonderland');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) (c.destroy ?? c.terminate)!.call(c);
  });
  after(() => t.stop());

  const ping = (id: string): string => `<iq type='get' id='${id}' to='localhost'><ping xmlns='${NS_PING}'/></iq>`;
  const result = (id: string) => (el: Element) => el.name === 'iq' && el.attrs.id === id && el.attrs.type === 'result';

  const transports: [string, () => Promise<RawClient | WsClient>][] = [
    ['STARTTLS', () => RawClient.connect(t.c2sPort)],
    ['direct TLS', () => RawClient.connect(t.directTlsPort, { directTls: true })],
    ['WebSocket', () => WsClient.connect(`ws://127.0.0.1:${t.httpPort}/xmpp-websocket`)],
  ];

  for (const [name, connect] of transports) {
    it(`two answers written together arrive together (${name})`, async () => {
      const c = await connect();
      clients.push(c);
      await c.login('alice', 'wonderland', 'nagle');
      // Answer each result at once, so the client's kernel takes the connection for an
      // interactive one and delays its ACKs.
      for (let i = 0; i < 6; i++) {
        c.send(ping(`w${i}`));
        await c.nextMatching(result(`w${i}`));
      }
      const gaps: number[] = [];
      for (let i = 0; i < 5; i++) {
        // Over TCP both requests go in one write; a WebSocket carries one element per message.
        if (c instanceof WsClient) {
          c.send(ping(`a${i}`));
          c.send(ping(`b${i}`));
        } else c.send(ping(`a${i}`) + ping(`b${i}`));
        await c.nextMatching(result(`a${i}`));
        const first = performance.now();
        await c.nextMatching(result(`b${i}`));
        gaps.push(performance.now() - first);
      }
      // Without TCP_NODELAY every gap here is the peer's delayed-ACK timeout (≥ 40 ms on Linux).
      gaps.sort((x, y) => x - y);
      expect(gaps[2], `gaps ${gaps.map((g) => g.toFixed(1)).join(', ')} ms`).to.be.lessThan(20);
    });
  }
});
