import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import type { RawClient } from '../../support/raw-client.ts';
import { Clients, iq, photoOf, UPDATE, VCARD, vcardWithPhoto } from './support.ts';

const isPresence = (e: Element) => e.name === 'presence';

/** Send a ping and expect its result to be the very next element: proves nothing else was queued before it. */
async function nothingPending(c: RawClient, id: string): Promise<void> {
  c.send(`<iq type='get' id='${id}'><ping xmlns='urn:xmpp:ping'/></iq>`);
  const next = await c.next();
  expect({ name: next.name, id: next.attrs.id }).to.deep.equal({ name: 'iq', id });
}

describe('vcard: avatar hash in presence (XEP-0153)', () => {
  let t: TestServer;
  let clients: Clients;
  before(async () => {
    t = await startTestServer();
    for (const user of ['juliet', 'romeo', 'nurse', 'benvolio']) await t.addUser(user, 'pw');
    clients = new Clients(t);
  });
  afterEach(() => clients.destroy());
  after(async () => {
    await t.stop();
  });

  it('without a photo, broadcast presence carries an empty <photo/> (§4.1 rule 3)', async () => {
    const c = await clients.login('romeo');
    c.send(`<presence><show>away</show><priority>5</priority></presence>`);
    const echo = await c.nextMatching(isPresence);
    expect(echo.attrs).to.deep.equal({ from: 'romeo@localhost/r' });
    expect(echo.getChildElements().map((e) => e.name)).to.deep.equal(['show', 'priority', 'x']);
    expect(echo.getChildText('show')).to.equal('away');
    expect(photoOf(echo)).to.deep.equal({ count: 1, photo: '' });
    expect(echo.getChild('x', UPDATE)!.getChildElements().map((e) => e.toString())).to.deep.equal(['<photo/>']);
  });

  it("carries the SHA-1 of the decoded photo, replacing the client's own <x/> elements (never two)", async () => {
    const c = await clients.login('juliet');
    const { xml, hash } = vcardWithPhoto('juliet');
    expect((await iq(c, `<iq type='set' id='v1'>${xml}</iq>`, 'v1')).attrs.type).to.equal('result');
    c.send(`<presence><status>here</status><x xmlns='${UPDATE}'><photo>0123456789abcdef0123456789abcdef01234567</photo></x><x xmlns='${UPDATE}'/></presence>`);
    const echo = await c.nextMatching(isPresence);
    expect(photoOf(echo)).to.deep.equal({ count: 1, photo: hash });
    expect(hash).to.match(/^[0-9a-f]{40}$/);
    expect(echo.getChildText('status')).to.equal('here');

    // Directed presence is left as the client wrote it.
    const r = await clients.login('romeo');
    r.send('<presence/>');
    await r.nextMatching(isPresence);
    c.send(`<presence to='romeo@localhost'><status>directed</status></presence>`);
    const directed = await r.nextMatching((e) => isPresence(e) && e.attrs.from === 'juliet@localhost/r');
    expect(directed.getChildText('status')).to.equal('directed');
    expect(photoOf(directed).count).to.equal(0);
  });

  it('a vCard set that changes the photo re-broadcasts every available resource with the new hash', async () => {
    const a = await clients.login('nurse', 'a');
    const b = await clients.login('nurse', 'b');
    const quiet = await clients.login('nurse', 'quiet'); // bound, never available
    a.send(`<presence><status>A</status></presence>`);
    await a.nextMatching((e) => isPresence(e) && e.attrs.from === 'nurse@localhost/a');
    b.send(`<presence><status>B</status><priority>3</priority></presence>`);
    await a.nextMatching((e) => isPresence(e) && e.attrs.from === 'nurse@localhost/b');
    await b.nextMatching((e) => isPresence(e) && e.attrs.from === 'nurse@localhost/b');
    // RFC 6121 §4.2.2: the new resource is told the presence of the other one.
    await b.nextMatching((e) => isPresence(e) && e.attrs.from === 'nurse@localhost/a');

    const first = vcardWithPhoto('nurse-1', 'Nurse');
    expect((await iq(a, `<iq type='set' id='n1'>${first.xml}</iq>`, 'n1')).attrs.type).to.equal('result');
    const seen: Element[] = [];
    while (seen.length < 2) seen.push(await b.nextMatching(isPresence));
    const byFrom = new Map(seen.map((p) => [p.attrs.from, p]));
    expect([...byFrom.keys()].sort()).to.deep.equal(['nurse@localhost/a', 'nurse@localhost/b']);
    // Each resource's own presence, unchanged but for the hash.
    expect(byFrom.get('nurse@localhost/a')!.getChildText('status')).to.equal('A');
    expect(byFrom.get('nurse@localhost/b')!.getChildText('status')).to.equal('B');
    expect(byFrom.get('nurse@localhost/b')!.getChildText('priority')).to.equal('3');
    for (const p of seen) expect(photoOf(p)).to.deep.equal({ count: 1, photo: first.hash });
    await nothingPending(b, 'b1');
    await nothingPending(quiet, 'q1');

    // The same photo with other text: the hash does not change, nothing is re-broadcast.
    const renamed = vcardWithPhoto('nurse-1', 'Angelica');
    expect(renamed.hash).to.equal(first.hash);
    expect((await iq(a, `<iq type='set' id='n2'>${renamed.xml}</iq>`, 'n2')).attrs.type).to.equal('result');
    await nothingPending(b, 'b2');

    // A new presence from b keeps carrying the hash, even though b's client sent none.
    b.send(`<presence><status>B again</status></presence>`);
    expect(photoOf(await a.nextMatching((e) => isPresence(e) && e.attrs.from === 'nurse@localhost/b'))).to.deep.equal({ count: 1, photo: first.hash });

    // Removing the photo (from the other resource) re-broadcasts an empty <photo/>.
    expect((await iq(b, `<iq type='set' id='n3'><vCard xmlns='${VCARD}'><FN>Nurse</FN></vCard></iq>`, 'n3')).attrs.type).to.equal('result');
    const cleared: Element[] = [];
    while (cleared.length < 2) cleared.push(await a.nextMatching(isPresence));
    expect(cleared.map((p) => p.attrs.from).sort()).to.deep.equal(['nurse@localhost/a', 'nurse@localhost/b']);
    for (const p of cleared) expect(photoOf(p)).to.deep.equal({ count: 1, photo: '' });
    await nothingPending(quiet, 'q2');
  });

  it("a later session's first presence carries the stored hash", async () => {
    const first = await clients.login('benvolio', 'one');
    const { xml, hash } = vcardWithPhoto('benvolio');
    await iq(first, `<iq type='set' id='k1'>${xml}</iq>`, 'k1');
    first.destroy();
    const second = await clients.login('benvolio', 'two');
    second.send('<presence/>');
    expect(photoOf(await second.nextMatching(isPresence))).to.deep.equal({ count: 1, photo: hash });
  });
});
