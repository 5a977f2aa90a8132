import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import type { Element } from 'ltx';
import { startTestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { jid } from '../../../server/jid.ts';
import { COLLECTION } from '../../../xep/private/private-store.ts';

const PRIVATE = 'jabber:iq:private';
const BOOKMARKS = 'storage:bookmarks';
const BOOKMARK_SET = `<storage xmlns="${BOOKMARKS}"><conference autojoin="true" jid="council@conference.localhost" name="Council"><nick>Puck</nick></conference></storage>`;

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

let ids = 0;
function sendPrivate(c: RawClient, type: 'get' | 'set', inner: string): string {
  const id = `l${++ids}`;
  c.send(`<iq type='${type}' id='${id}'><query xmlns='${PRIVATE}'>${inner}</query></iq>`);
  return id;
}

async function privateIq(c: RawClient, type: 'get' | 'set', inner: string): Promise<Element> {
  const id = sendPrivate(c, type, inner);
  return c.nextMatching((e) => e.name === 'iq' && e.attrs.id === id);
}

function stored(r: Element): string[] {
  expect(r.attrs.type, r.toString()).to.equal('result');
  return r.getChild('query', PRIVATE)!.getChildElements().map((e) => e.toString());
}

async function login(port: number, user: string, resource = 'r'): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.login(user, 'pw', resource);
  return c;
}

describe('private (XEP-0049) limits, persistence and account removal', () => {
  it('refuses more than maxBytes under one namespace with not-acceptable, and accepts exactly maxBytes', async () => {
    const t = await startTestServer({ config: { modules: { private: { maxBytes: 100 } } } });
    try {
      await t.addUser('alice', 'pw');
      const c = await login(t.c2sPort, 'alice');
      const wrap = (text: string) => `<n xmlns="urn:example:size">${text}</n>`;
      const exact = wrap('é'.repeat((100 - wrap('').length) / 2)); // 2 bytes each in UTF-8
      expect(Buffer.byteLength(exact)).to.equal(100);
      expect((await privateIq(c, 'set', exact)).attrs.type).to.equal('result');
      const tooBig = await privateIq(c, 'set', wrap('é'.repeat((100 - wrap('').length) / 2) + 'x'));
      expect(condition(tooBig)).to.equal('not-acceptable');
      expect(tooBig.getChild('error')!.attrs.type).to.equal('modify');
      // The earlier value is kept.
      expect(stored(await privateIq(c, 'get', `<n xmlns='urn:example:size'/>`))).to.deep.equal([exact]);
      c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('refuses a namespace beyond maxNamespaces with not-allowed; replacing and clearing still work', async () => {
    const t = await startTestServer({ config: { modules: { private: { maxNamespaces: 2 } } } });
    try {
      await t.addUser('alice', 'pw');
      const c = await login(t.c2sPort, 'alice');
      expect((await privateIq(c, 'set', `<a xmlns='urn:example:1'/>`)).attrs.type).to.equal('result');
      expect((await privateIq(c, 'set', `<a xmlns='urn:example:1'>kept</a>`)).attrs.type).to.equal('result');
      expect((await privateIq(c, 'set', `<a xmlns='urn:example:2'>x</a>`)).attrs.type).to.equal('result');
      const third = await privateIq(c, 'set', `<a xmlns='urn:example:3'>x</a>`);
      expect(condition(third)).to.equal('not-allowed');
      expect(third.getChild('error')!.attrs.type).to.equal('cancel');
      // Replacing a stored namespace is no new one.
      expect((await privateIq(c, 'set', `<a xmlns='urn:example:2'>y</a>`)).attrs.type).to.equal('result');
      // Clearing one frees its place.
      expect((await privateIq(c, 'set', `<a xmlns='urn:example:2'/>`)).attrs.type).to.equal('result');
      expect((await privateIq(c, 'set', `<a xmlns='urn:example:3'>x</a>`)).attrs.type).to.equal('result');
      expect(stored(await privateIq(c, 'get', `<a xmlns='urn:example:1'/>`))).to.deep.equal([`<a xmlns="urn:example:1">kept</a>`]);
      c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('sets from six resources at once for one free namespace: exactly one is stored', async () => {
    const t = await startTestServer({ config: { modules: { private: { maxNamespaces: 1 } } } });
    try {
      await t.addUser('alice', 'pw');
      const clients = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => login(t.c2sPort, 'alice', `r${n}`)));
      // Written in one tick, so the server handles the sets side by side.
      const sent = clients.map((c, n) => sendPrivate(c, 'set', `<a xmlns='urn:example:race${n}'>${n}</a>`));
      const replies = await Promise.all(clients.map((c, n) => c.nextMatching((e) => e.attrs.id === sent[n])));
      expect(replies.filter((r) => r.attrs.type === 'result')).to.have.length(1);
      expect(replies.map(condition).filter(Boolean)).to.deep.equal(['not-allowed', 'not-allowed', 'not-allowed', 'not-allowed', 'not-allowed']);
      expect(await t.server.store.collection(COLLECTION).countDocuments({ account: 'alice@localhost' })).to.equal(1);
      for (const c of clients) c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('bookmarks survive a restart, and removing the account deletes its private XML', async () => {
    const first = await startTestServer({ storage: 'disk' });
    try {
      await first.addUser('puck', 'pw');
      await first.addUser('oberon', 'pw');
      const c = await login(first.c2sPort, 'puck');
      expect((await privateIq(c, 'set', BOOKMARK_SET)).attrs.type).to.equal('result');
      expect((await privateIq(c, 'set', `<prefs xmlns='gajim:prefs'><theme>dark</theme></prefs>`)).attrs.type).to.equal('result');
      const o = await login(first.c2sPort, 'oberon');
      expect((await privateIq(o, 'set', `<prefs xmlns='gajim:prefs'><theme>light</theme></prefs>`)).attrs.type).to.equal('result');
      c.destroy();
      o.destroy();
    } finally {
      await first.stop({ keepData: true });
    }
    const second = await startTestServer({ storage: 'disk', dataDir: first.dataDir });
    try {
      const c = await login(second.c2sPort, 'puck');
      expect(stored(await privateIq(c, 'get', `<storage xmlns='${BOOKMARKS}'/>`))).to.deep.equal([BOOKMARK_SET]);
      c.destroy();

      const docs = second.server.store.collection(COLLECTION);
      expect(await docs.countDocuments({ account: 'puck@localhost' })).to.equal(2);
      expect(await second.server.accounts.remove(jid('puck', 'localhost'))).to.equal(true);
      expect(await docs.countDocuments({ account: 'puck@localhost' })).to.equal(0);
      // Another account's data stays.
      expect(await docs.countDocuments({ account: 'oberon@localhost' })).to.equal(1);

      // A new account of the same name starts empty.
      await second.addUser('puck', 'pw');
      const d = await login(second.c2sPort, 'puck');
      expect(stored(await privateIq(d, 'get', `<storage xmlns='${BOOKMARKS}'/>`))).to.deep.equal([`<storage xmlns="${BOOKMARKS}"/>`]);
      expect(stored(await privateIq(d, 'get', `<prefs xmlns='gajim:prefs'/>`))).to.deep.equal([`<prefs xmlns="gajim:prefs"/>`]);
      d.destroy();
    } finally {
      await second.stop();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });
});
