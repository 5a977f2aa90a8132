import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { parse } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { jid } from '../../../server/jid.ts';
import { VCARD_COLLECTION } from '../../../xep/vcard/vcard-store.ts';
import { Clients, condition, iq, tree, VCARD, vcardWithPhoto, photoOf } from './support.ts';

const INFO = 'http://jabber.org/protocol/disco#info';

// A vCard with nesting, empty elements, escaped text, a line break, xml:lang and a foreign namespace.
const JULIET =
  `<vCard xmlns='${VCARD}'>` +
  `<FN>Juliet Capulet</FN>` +
  `<N><FAMILY>Capulet</FAMILY><GIVEN>Juliet</GIVEN><MIDDLE/></N>` +
  `<NICKNAME>jc</NICKNAME>` +
  `<TEL><HOME/><VOICE/><NUMBER>+39 045 800 0000</NUMBER></TEL>` +
  `<TEL><WORK/><FAX/><NUMBER/></TEL>` +
  `<ADR><HOME/><LOCALITY>Verona</LOCALITY><CTRY>Italy</CTRY></ADR>` +
  `<EMAIL><INTERNET/><PREF/><USERID>juliet@example.com</USERID></EMAIL>` +
  `<JABBERID>juliet@localhost</JABBERID>` +
  `<DESC xml:lang='en'>Montague &amp; Capulet &lt;3\nline two</DESC>` +
  `<X-NOTE xmlns='urn:example:note' kind='a'><P>kept</P></X-NOTE>` +
  `</vCard>`;

describe('vcard (XEP-0054)', () => {
  let t: TestServer;
  let clients: Clients;
  before(async () => {
    t = await startTestServer();
    for (const user of ['juliet', 'romeo', 'nurse', 'tybalt', 'paris']) await t.addUser(user, 'pw');
    clients = new Clients(t);
  });
  afterEach(() => clients.destroy());
  after(async () => {
    await t.stop();
  });

  it("advertises vcard-temp on the server's and on an account's disco#info (§4)", async () => {
    const c = await clients.login('juliet');
    const host = await iq(c, `<iq type='get' to='localhost' id='d1'><query xmlns='${INFO}'/></iq>`, 'd1');
    expect(host.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.include(VCARD);
    const own = await iq(c, `<iq type='get' id='d2'><query xmlns='${INFO}'/></iq>`, 'd2');
    expect(own.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.include(VCARD);
  });

  it('an account without a vCard gets an empty one (§3.1); anyone else gets service-unavailable, as for no account (§3.3)', async () => {
    const c = await clients.login('tybalt');
    const own = await iq(c, `<iq type='get' id='e1'><vCard xmlns='${VCARD}'/></iq>`, 'e1');
    expect(own.attrs).to.deep.equal({ type: 'result', id: 'e1', to: 'tybalt@localhost/r' });
    expect(own.getChildElements().map(tree)).to.deep.equal([{ name: 'vCard', attrs: { xmlns: VCARD }, children: [] }]);

    const r = await clients.login('romeo');
    const other = await iq(r, `<iq type='get' to='tybalt@localhost' id='e2'><vCard xmlns='${VCARD}'/></iq>`, 'e2');
    expect(other.attrs).to.include({ type: 'error', from: 'tybalt@localhost', to: 'romeo@localhost/r' });
    expect(condition(other)).to.equal('service-unavailable');
    expect(other.getChild('error')!.attrs.type).to.equal('cancel');
    const nobody = await iq(r, `<iq type='get' to='ghost@localhost' id='e3'><vCard xmlns='${VCARD}'/></iq>`, 'e3');
    expect(condition(nobody)).to.equal('service-unavailable');
  });

  it('set then get returns the vCard element by element, without to and to the own bare JID (§3.1, §3.2)', async () => {
    const c = await clients.login('juliet');
    const set = await iq(c, `<iq type='set' id='s1'>${JULIET}</iq>`, 's1');
    expect(set.attrs).to.deep.equal({ type: 'result', id: 's1', to: 'juliet@localhost/r' });
    expect(set.getChildElements()).to.deep.equal([]);

    const expected = tree(parse(JULIET));
    const got = await iq(c, `<iq type='get' id='g1'><vCard xmlns='${VCARD}'/></iq>`, 'g1');
    expect(got.attrs).to.deep.equal({ type: 'result', id: 'g1', to: 'juliet@localhost/r' });
    expect(got.getChildElements().map(tree)).to.deep.equal([expected]);
    const desc = got.getChild('vCard', VCARD)!.getChild('DESC')!;
    expect(desc.getText()).to.equal('Montague & Capulet <3\nline two');

    const toSelf = await iq(c, `<iq type='get' to='juliet@localhost' id='g2'><vCard xmlns='${VCARD}'/></iq>`, 'g2');
    expect(toSelf.attrs).to.include({ type: 'result', from: 'juliet@localhost' });
    expect(toSelf.getChildElements().map(tree)).to.deep.equal([expected]);
  });

  it("anyone may get another account's vCard; the server answers from the bare JID, online or not (§3.3)", async () => {
    const j = await clients.login('juliet', 'balcony');
    await iq(j, `<iq type='set' id='s2'>${JULIET}</iq>`, 's2');
    const r = await clients.login('romeo');
    const online = await iq(r, `<iq type='get' to='juliet@localhost' id='o1'><vCard xmlns='${VCARD}'/></iq>`, 'o1');
    expect(online.attrs).to.deep.equal({ type: 'result', id: 'o1', from: 'juliet@localhost', to: 'romeo@localhost/r' });
    expect(online.getChildElements().map(tree)).to.deep.equal([tree(parse(JULIET))]);
    // The IQ to the bare JID is not forwarded to Juliet's client.
    j.send(`<iq type='get' id='j-ping'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect((await j.next()).attrs.id).to.equal('j-ping');

    j.destroy();
    const offline = await iq(r, `<iq type='get' to='juliet@localhost' id='o2'><vCard xmlns='${VCARD}'/></iq>`, 'o2');
    expect(offline.getChildElements().map(tree)).to.deep.equal([tree(parse(JULIET))]);
  });

  it("setting another account's vCard is forbidden and changes nothing (§3.2)", async () => {
    const j = await clients.login('juliet');
    await iq(j, `<iq type='set' id='s3'>${JULIET}</iq>`, 's3');
    const r = await clients.login('romeo');
    const refused = await iq(r, `<iq type='set' to='juliet@localhost' id='f1'><vCard xmlns='${VCARD}'><FN>Romeo was here</FN></vCard></iq>`, 'f1');
    expect(refused.attrs).to.include({ type: 'error', from: 'juliet@localhost' });
    expect(condition(refused)).to.equal('forbidden');
    expect(refused.getChild('error')!.attrs.type).to.equal('auth');
    const got = await iq(j, `<iq type='get' id='f2'><vCard xmlns='${VCARD}'/></iq>`, 'f2');
    expect(got.getChildElements().map(tree)).to.deep.equal([tree(parse(JULIET))]);
  });

  it('a set (also to the own bare JID) replaces the whole vCard; an empty vCard clears it', async () => {
    const n = await clients.login('nurse');
    await iq(n, `<iq type='set' id='r1'>${JULIET}</iq>`, 'r1');
    // Addressed to the own bare JID is the same as without 'to' (§3.2).
    const toSelf = await iq(n, `<iq type='set' to='nurse@localhost' id='r2'><vCard xmlns='${VCARD}'><NICKNAME>nurse</NICKNAME></vCard></iq>`, 'r2');
    expect(toSelf.attrs).to.include({ type: 'result', from: 'nurse@localhost' });
    const replaced = await iq(n, `<iq type='get' id='r3'><vCard xmlns='${VCARD}'/></iq>`, 'r3');
    expect(replaced.getChildElements().map(tree)).to.deep.equal([
      { name: 'vCard', attrs: { xmlns: VCARD }, children: [{ name: 'NICKNAME', attrs: {}, children: ['nurse'] }] },
    ]);

    const cleared = await iq(n, `<iq type='set' id='r4'><vCard xmlns='${VCARD}'/></iq>`, 'r4');
    expect(cleared.attrs.type).to.equal('result');
    const own = await iq(n, `<iq type='get' id='r5'><vCard xmlns='${VCARD}'/></iq>`, 'r5');
    expect(own.getChildElements().map(tree)).to.deep.equal([{ name: 'vCard', attrs: { xmlns: VCARD }, children: [] }]);
    const r = await clients.login('romeo');
    const other = await iq(r, `<iq type='get' to='nurse@localhost' id='r6'><vCard xmlns='${VCARD}'/></iq>`, 'r6');
    expect(condition(other)).to.equal('service-unavailable');
  });

  it('a payload other than <vCard/> and a BINVAL that is not base64 are bad-request, and nothing is stored', async () => {
    const p = await clients.login('paris');
    const wrong = await iq(p, `<iq type='set' id='b1'><card xmlns='${VCARD}'/></iq>`, 'b1');
    expect(condition(wrong)).to.equal('bad-request');
    const wrongGet = await iq(p, `<iq type='get' id='b2'><card xmlns='${VCARD}'/></iq>`, 'b2');
    expect(condition(wrongGet)).to.equal('bad-request');
    const badPhoto = await iq(p, `<iq type='set' id='b3'><vCard xmlns='${VCARD}'><FN>P</FN><PHOTO><BINVAL>not*base64!</BINVAL></PHOTO></vCard></iq>`, 'b3');
    expect(condition(badPhoto)).to.equal('bad-request');
    expect(badPhoto.getChild('error')!.attrs.type).to.equal('modify');
    const got = await iq(p, `<iq type='get' id='b4'><vCard xmlns='${VCARD}'/></iq>`, 'b4');
    expect(got.getChild('vCard', VCARD)!.getChildElements()).to.deep.equal([]);
  });

  it('a vCard larger than the default 64 KiB is not-acceptable', async () => {
    const p = await clients.login('paris');
    const big = `<vCard xmlns='${VCARD}'><DESC>${'x'.repeat(64 * 1024)}</DESC></vCard>`;
    const refused = await iq(p, `<iq type='set' id='l1'>${big}</iq>`, 'l1');
    expect(condition(refused)).to.equal('not-acceptable');
    expect(refused.getChild('error')!.attrs.type).to.equal('modify');
    const got = await iq(p, `<iq type='get' id='l2'><vCard xmlns='${VCARD}'/></iq>`, 'l2');
    expect(got.getChild('vCard', VCARD)!.getChildElements()).to.deep.equal([]);
  });
});

describe('vcard (XEP-0054): configured size limit', () => {
  let t: TestServer;
  let clients: Clients;
  before(async () => {
    t = await startTestServer({ config: { modules: { vcard: { maxBytes: 1024 } } } });
    await t.addUser('juliet', 'pw');
    clients = new Clients(t);
  });
  after(async () => {
    clients.destroy();
    await t.stop();
  });

  // The limit counts UTF-8 bytes of the vCard element as stored: `<vCard xmlns="vcard-temp"><DESC>…</DESC></vCard>`.
  const overhead = Buffer.byteLength(`<vCard xmlns="vcard-temp"><DESC></DESC></vCard>`);
  const withDesc = (text: string) => `<vCard xmlns='${VCARD}'><DESC>${text}</DESC></vCard>`;

  it('exactly maxBytes is stored; one byte more is not-acceptable', async () => {
    const c = await clients.login('juliet');
    const fits = await iq(c, `<iq type='set' id='m1'>${withDesc('a'.repeat(1024 - overhead))}</iq>`, 'm1');
    expect(fits.attrs.type).to.equal('result');
    const over = await iq(c, `<iq type='set' id='m2'>${withDesc('b'.repeat(1024 - overhead + 1))}</iq>`, 'm2');
    expect(condition(over)).to.equal('not-acceptable');
    const got = await iq(c, `<iq type='get' id='m3'><vCard xmlns='${VCARD}'/></iq>`, 'm3');
    expect(got.getChild('vCard', VCARD)!.getChildText('DESC')).to.equal('a'.repeat(1024 - overhead));
  });

  it('the limit counts bytes, not characters', async () => {
    const c = await clients.login('juliet');
    // 'é' is two bytes in UTF-8: as many characters as fit in ASCII are too many bytes.
    const over = await iq(c, `<iq type='set' id='m4'>${withDesc('é'.repeat(1024 - overhead))}</iq>`, 'm4');
    expect(condition(over)).to.equal('not-acceptable');
    const fits = await iq(c, `<iq type='set' id='m5'>${withDesc('é'.repeat(Math.floor((1024 - overhead) / 2)))}</iq>`, 'm5');
    expect(fits.attrs.type).to.equal('result');
  });
});

describe('vcard (XEP-0054): storage', () => {
  it('a vCard and its photo hash survive a restart', async () => {
    const { xml, hash } = vcardWithPhoto('persist');
    const first = await startTestServer({ storage: 'disk' });
    try {
      await first.addUser('juliet', 'pw');
      const clients = new Clients(first);
      const c = await clients.login('juliet');
      expect((await iq(c, `<iq type='set' id='p1'>${xml}</iq>`, 'p1')).attrs.type).to.equal('result');
      clients.destroy();
    } finally {
      await first.stop({ keepData: true });
    }
    const second = await startTestServer({ storage: 'disk', dataDir: first.dataDir });
    try {
      await second.addUser('romeo', 'pw');
      const clients = new Clients(second);
      const r = await clients.login('romeo');
      const got = await iq(r, `<iq type='get' to='juliet@localhost' id='p2'><vCard xmlns='${VCARD}'/></iq>`, 'p2');
      expect(got.getChildElements().map(tree)).to.deep.equal([tree(parse(xml))]);
      const j = await clients.login('juliet');
      j.send('<presence/>');
      const echo = await j.nextMatching((e) => e.name === 'presence');
      expect(photoOf(echo)).to.deep.equal({ count: 1, photo: hash });
      clients.destroy();
    } finally {
      await second.stop();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });

  it("removing the account deletes its vCard", async () => {
    const t = await startTestServer();
    try {
      await t.addUser('juliet', 'pw');
      await t.addUser('romeo', 'pw');
      const clients = new Clients(t);
      const j = await clients.login('juliet');
      await iq(j, `<iq type='set' id='a1'>${vcardWithPhoto('gone').xml}</iq>`, 'a1');
      const vcards = t.server.store.collection(VCARD_COLLECTION);
      expect(await vcards.countDocuments({ _id: 'juliet@localhost' })).to.equal(1);
      expect(await t.server.accounts.remove(jid('juliet', 'localhost'))).to.equal(true);
      expect(await vcards.countDocuments({ _id: 'juliet@localhost' })).to.equal(0);
      await t.addUser('juliet', 'pw');
      const r = await clients.login('romeo');
      const other = await iq(r, `<iq type='get' to='juliet@localhost' id='a2'><vCard xmlns='${VCARD}'/></iq>`, 'a2');
      expect(condition(other)).to.equal('service-unavailable');
      const again = await clients.login('juliet', 'again');
      const own = await iq(again, `<iq type='get' id='a3'><vCard xmlns='${VCARD}'/></iq>`, 'a3');
      expect(own.getChild('vCard', VCARD)!.getChildElements()).to.deep.equal([]);
      again.send('<presence/>');
      expect(photoOf(await again.nextMatching((e) => e.name === 'presence'))).to.deep.equal({ count: 1, photo: '' });
      clients.destroy();
    } finally {
      await t.stop();
    }
  });
});
