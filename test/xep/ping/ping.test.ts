import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient } from '../../support/raw-client.ts';

describe('ping (XEP-0199)', () => {
  let t: TestServer;
  let c: RawClient;
  before(async () => {
    t = await startTestServer();
    await t.addUser('alice', 'pw');
    c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'pw', 'pinger');
  });
  after(async () => {
    c.destroy();
    await t.stop();
  });

  it('answers a client-to-server ping with an empty result from the server (§4.2)', async () => {
    c.send(`<iq type='get' to='localhost' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const r = await c.nextMatching((e) => e.attrs.id === 'p1');
    expect(r.attrs).to.deep.equal({ type: 'result', id: 'p1', from: 'localhost', to: 'alice@localhost/pinger' });
    expect(r.children).to.deep.equal([]);
  });

  it('answers a ping without to on the account\'s behalf', async () => {
    c.send(`<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const r = await c.nextMatching((e) => e.attrs.id === 'p2');
    expect(r.attrs).to.deep.equal({ type: 'result', id: 'p2', to: 'alice@localhost/pinger' });
  });

  it('answers a ping to the second served host from that host', async () => {
    c.send(`<iq type='get' to='example.test' id='p3'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const r = await c.nextMatching((e) => e.attrs.id === 'p3');
    expect(r.attrs).to.include({ type: 'result', from: 'example.test' });
  });
});
