// Logging in with an independent client (xmpp.js) over every transport, exchanging
// messages, and logging in again after a restart.
import { expect } from 'chai';
import { xml } from '@xmpp/client';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { connectClient } from '../../support/xmpp-client.ts';

describe('logging in with @xmpp/client', function () {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await t.addUser('alice', 'wonderland');
    await t.addUser('bob', 'builder');
  });
  after(() => t.stop());

  it('over STARTTLS (SCRAM-SHA-1, bind)', async () => {
    const a = await connectClient({ service: `xmpp://127.0.0.1:${t.c2sPort}`, username: 'alice', password: 'wonderland', resource: 'desk' });
    expect(a.jid).to.equal('alice@localhost/desk');
    await a.stop();
  });

  it('over direct TLS (XEP-0368)', async () => {
    const a = await connectClient({ service: `xmpps://localhost:${t.directTlsPort}`, username: 'alice', password: 'wonderland' });
    expect(a.jid).to.match(/^alice@localhost\//);
    await a.stop();
  });

  it('over WebSocket (RFC 7395)', async () => {
    const a = await connectClient({ service: `ws://127.0.0.1:${t.httpPort}/xmpp-websocket`, username: 'alice', password: 'wonderland', resource: 'web' });
    expect(a.jid).to.equal('alice@localhost/web');
    await a.stop();
  });

  it('rejects a wrong password', async () => {
    let error: Error | undefined;
    try {
      const a = await connectClient({ service: `xmpp://127.0.0.1:${t.c2sPort}`, username: 'alice', password: 'not-it' });
      await a.stop();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.name).to.equal('SASLError');
    expect((error as Error & { condition?: string }).condition).to.equal('not-authorized');
  });

  it('two users exchange messages (TCP and WebSocket), with from stamped by the server', async () => {
    const a = await connectClient({ service: `xmpp://127.0.0.1:${t.c2sPort}`, username: 'alice', password: 'wonderland', resource: 'a1' });
    const b = await connectClient({ service: `ws://127.0.0.1:${t.httpPort}/xmpp-websocket`, username: 'bob', password: 'builder', resource: 'b1' });
    try {
      await a.xmpp.send(xml('presence'));
      await b.xmpp.send(xml('presence'));
      await a.waitFor((e) => e.name === 'presence');
      await b.waitFor((e) => e.name === 'presence');
      await a.xmpp.send(xml('message', { to: 'bob@localhost', type: 'chat', id: 'm1' }, xml('body', {}, 'Hi Bob <3 & co')));
      const got = await b.waitFor((e) => e.name === 'message');
      expect(got.attrs).to.include({ from: 'alice@localhost/a1', to: 'bob@localhost', type: 'chat', id: 'm1' });
      expect(got.getChildText('body')).to.equal('Hi Bob <3 & co');
      await b.xmpp.send(xml('message', { to: got.attrs.from, type: 'chat', id: 'm2' }, xml('body', {}, 'Hi Alice')));
      const reply = await a.waitFor((e) => e.name === 'message');
      expect(reply.attrs).to.include({ from: 'bob@localhost/b1', to: 'alice@localhost/a1', id: 'm2' });
      expect(reply.getChildText('body')).to.equal('Hi Alice');
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('answers disco#info and ping on the server JID', async () => {
    const a = await connectClient({ service: `xmpp://127.0.0.1:${t.c2sPort}`, username: 'alice', password: 'wonderland' });
    try {
      const info = await a.xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
      const query = info.getChild('query', 'http://jabber.org/protocol/disco#info')!;
      expect(query.getChild('identity')!.attrs).to.include({ category: 'server', type: 'im' });
      const features = query.getChildren('feature').map((f) => f.attrs.var);
      expect(features).to.deep.equal([...features].sort());
      expect(features).to.include.members(['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'urn:xmpp:ping']);
      const pong = await a.xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      expect(pong.attrs.type).to.equal('result');
    } finally {
      await a.stop();
    }
  });

  it('keeps accounts across a restart (embedded store on disk)', async () => {
    const first = await startTestServer({ storage: 'disk' });
    await first.addUser('carol', 'persistent');
    await first.stop({ keepData: true });
    const second = await startTestServer({ storage: 'disk', dataDir: first.dataDir });
    try {
      const c = await connectClient({ service: `xmpp://127.0.0.1:${second.c2sPort}`, username: 'carol', password: 'persistent' });
      expect(c.jid).to.match(/^carol@localhost\//);
      await c.stop();
    } finally {
      await second.stop();
      const { rm } = await import('node:fs/promises');
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });
});
