import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';

const VERSION = 'jabber:iq:version';
const INFO = 'http://jabber.org/protocol/disco#info';
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

async function ask(c: RawClient, xml: string, id: string): Promise<Element> {
  c.send(xml);
  return c.nextMatching((e) => e.attrs.id === id);
}

/** The <query/>'s children as [name, text] pairs, in order. */
function fields(query: Element): [string, string][] {
  return query.getChildElements().map((e) => [e.name, e.getText()]);
}

describe('version (XEP-0092)', () => {
  describe('with the defaults', () => {
    let t: TestServer;
    let c: RawClient;
    before(async () => {
      t = await startTestServer();
      await t.addUser('alice', 'pw');
      c = await RawClient.connect(t.c2sPort);
      await c.login('alice', 'pw', 'v');
    });
    after(async () => {
      c.destroy();
      await t.stop();
    });

    it('answers the server JID with name and version from package.json, and no <os/> (§2, §5)', async () => {
      const r = await ask(c, `<iq type='get' to='localhost' id='v1'><query xmlns='${VERSION}'/></iq>`, 'v1');
      expect(r.attrs).to.deep.equal({ type: 'result', id: 'v1', from: 'localhost', to: 'alice@localhost/v' });
      const q = r.getChildElements();
      expect(q.map((e) => [e.name, e.attrs.xmlns])).to.deep.equal([['query', VERSION]]);
      expect(fields(q[0]!)).to.deep.equal([['name', 'Chorus'], ['version', PACKAGE_VERSION]]);
    });

    it('is advertised in the server\'s disco#info (§4)', async () => {
      const r = await ask(c, `<iq type='get' to='localhost' id='v2'><query xmlns='${INFO}'/></iq>`, 'v2');
      expect(r.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.include(VERSION);
    });

    it('a set is not implemented', async () => {
      const r = await ask(c, `<iq type='set' to='localhost' id='v3'><query xmlns='${VERSION}'/></iq>`, 'v3');
      expect(r.attrs.type).to.equal('error');
      expect(condition(r)).to.equal('feature-not-implemented');
    });

    it('an account\'s bare JID is not answered for by the server', async () => {
      await t.addUser('bob', 'pw');
      const r = await ask(c, `<iq type='get' to='bob@localhost' id='v4'><query xmlns='${VERSION}'/></iq>`, 'v4');
      expect(r.attrs).to.include({ type: 'error', from: 'bob@localhost' });
      expect(condition(r)).to.equal('service-unavailable');
    });
  });

  it('with showOs, adds <os/> with the operating system and its release', async () => {
    const t = await startTestServer({ config: { modules: { version: { showOs: true } } } });
    try {
      await t.addUser('alice', 'pw');
      const c = await RawClient.connect(t.c2sPort);
      await c.login('alice', 'pw');
      const r = await ask(c, `<iq type='get' to='localhost' id='o1'><query xmlns='${VERSION}'/></iq>`, 'o1');
      expect(fields(r.getChild('query', VERSION)!)).to.deep.equal([
        ['name', 'Chorus'],
        ['version', PACKAGE_VERSION],
        ['os', `${os.type()} ${os.release()}`],
      ]);
      c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('disabled, the server answers service-unavailable and disco leaves the feature out', async () => {
    const t = await startTestServer({ config: { modules: { version: false } } });
    try {
      await t.addUser('alice', 'pw');
      const c = await RawClient.connect(t.c2sPort);
      await c.login('alice', 'pw');
      const r = await ask(c, `<iq type='get' to='localhost' id='d1'><query xmlns='${VERSION}'/></iq>`, 'd1');
      expect(r.attrs.type).to.equal('error');
      expect(condition(r)).to.equal('service-unavailable');
      const info = await ask(c, `<iq type='get' to='localhost' id='d2'><query xmlns='${INFO}'/></iq>`, 'd2');
      expect(info.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.not.include(VERSION);
      c.destroy();
    } finally {
      await t.stop();
    }
  });
});
