import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { CAPS_NODE, capsString, capsVerification, type DiscoInfo } from '../../../xep/disco/caps.ts';

const INFO = 'http://jabber.org/protocol/disco#info';
const CAPS = 'http://jabber.org/protocol/caps';
const MUC = 'http://jabber.org/protocol/muc';
const ITEMS = 'http://jabber.org/protocol/disco#items';

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

describe('entity capabilities: the verification string (XEP-0115 §5)', () => {
  it('§5.2 simple generation example: Exodus', () => {
    const info: DiscoInfo = {
      identities: [{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }],
      features: [INFO, ITEMS, MUC, CAPS],
      extensions: [],
    };
    expect(capsString(info)).to.equal(`client/pc//Exodus 0.9.1<${CAPS}<${INFO}<${ITEMS}<${MUC}<`);
    expect(capsVerification(info)).to.equal('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });

  it('§5.3 complex generation example: Psi, two languages and a software-information form', () => {
    const info: DiscoInfo = {
      identities: [
        { category: 'client', type: 'pc', name: 'Psi 0.11', lang: 'en' },
        { category: 'client', type: 'pc', name: '\u03a8 0.11', lang: 'el' },
      ],
      features: [CAPS, INFO, ITEMS, MUC],
      extensions: [{
        formType: 'urn:xmpp:dataforms:softwareinfo',
        fields: [
          { var: 'os_version', values: ['10.5.1'] },
          { var: 'software', values: ['Psi'] },
          { var: 'ip_version', values: ['ipv6', 'ipv4'] },
          { var: 'software_version', values: ['0.11'] },
          { var: 'os', values: ['Mac'] },
        ],
      }],
    };
    expect(capsString(info)).to.equal(
      `client/pc/el/\u03a8 0.11<client/pc/en/Psi 0.11<${CAPS}<${INFO}<${ITEMS}<${MUC}<urn:xmpp:dataforms:softwareinfo<`
      + 'ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<',
    );
    expect(capsVerification(info)).to.equal('q07IKJEyjvHSyhy//CH0CxmKi8w=');
  });

  it('sorts by "i;octet" (UTF-8 bytes), not by UTF-16 code units', () => {
    // U+FFFD is EF BF BD in UTF-8, U+1F600 is F0 9F 98 80: bytes put U+FFFD first, UTF-16 would not.
    const s = capsString({ identities: [], features: ['\u{1F600}', '\uFFFD'], extensions: [] });
    expect(s).to.equal('\uFFFD<\u{1F600}<');
  });

  it('sorts identities by category, then type, then language, not by the joined string', () => {
    const s = capsString({
      identities: [{ category: 'a-b', type: 't' }, { category: 'a', type: 'z' }, { category: 'a', type: 'y', lang: 'fr' }, { category: 'a', type: 'y', lang: 'de' }],
      features: [],
      extensions: [],
    });
    // Joined, 'a-b/...' would sort before 'a/...' ('-' < '/').
    expect(s).to.equal('a/y/de/<a/y/fr/<a/z//<a-b/t//<');
  });

  it('orders several forms by FORM_TYPE and leaves a FORM_TYPE field out of the fields', () => {
    const s = capsString({
      identities: [],
      features: [],
      extensions: [
        { formType: 'urn:b', fields: [{ var: 'x', values: ['2', '1'] }] },
        { formType: 'urn:a', fields: [{ var: 'FORM_TYPE', values: ['urn:a'] }, { var: 'y', values: [] }] },
      ],
    });
    expect(s).to.equal('urn:a<y<urn:b<x<1<2<');
  });
});

/** Log in step by step, keeping the stream header and the features offered after authentication. */
async function loginKeepingFeatures(port: number, user: string, resource: string): Promise<{ client: RawClient; header: Element; features: Element }> {
  const client = await RawClient.connect(port);
  let features = await client.open();
  if (features.getChild('starttls', NS.tls)) {
    await client.startTls();
    features = await client.open();
  }
  client.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${Buffer.from(`\0${user}\0pw`).toString('base64')}</auth>`);
  expect((await client.next()).name).to.equal('success');
  features = await client.open();
  const header = client.streamHeader!;
  client.send(`<iq type='set' id='bind1'><bind xmlns='${NS.bind}'><resource>${resource}</resource></bind></iq>`);
  expect((await client.nextMatching((e) => e.attrs.id === 'bind1')).attrs.type).to.equal('result');
  return { client, header, features };
}

/** Read a disco#info <query/> back into what the §5.1 algorithm takes. */
function parseInfo(query: Element): DiscoInfo {
  return {
    identities: query.getChildren('identity').map((i) => ({
      category: i.attrs.category as string, type: i.attrs.type as string, name: i.attrs.name, lang: i.attrs['xml:lang'],
    })),
    features: query.getChildren('feature').map((f) => f.attrs.var as string),
    extensions: query.getChildren('x', 'jabber:x:data').map((form) => {
      const fields = form.getChildren('field');
      return {
        formType: fields.find((f) => f.attrs.var === 'FORM_TYPE')!.getChildText('value')!,
        fields: fields.filter((f) => f.attrs.var !== 'FORM_TYPE').map((f) => ({ var: f.attrs.var as string, values: f.getChildren('value').map((v) => v.getText()) })),
      };
    }),
  };
}

describe('entity capabilities of the server (XEP-0115)', () => {
  const servers: TestServer[] = [];
  const clients: RawClient[] = [];
  after(async () => {
    for (const c of clients) c.destroy();
    for (const t of servers) await t.stop();
  });

  async function serverWith(config: Record<string, unknown> = {}, existing?: TestServer): Promise<{ caps: Element; header: Element; client: RawClient; preAuth: Element }> {
    const t = existing ?? (await startTestServer({ config }));
    if (!existing) {
      servers.push(t);
      await t.addUser('alice', 'pw');
    }
    const probe = await RawClient.connect(t.c2sPort);
    clients.push(probe);
    const preAuth = await probe.open();
    const { client, header, features } = await loginKeepingFeatures(t.c2sPort, 'alice', 'caps');
    clients.push(client);
    const caps = features.getChild('c', CAPS);
    expect(caps, 'a <c/> in the features after authentication').to.not.equal(undefined);
    return { caps: caps!, header, client, preAuth };
  }
  const lastServer = () => servers[servers.length - 1]!;

  async function ask(client: RawClient, id: string, node?: string): Promise<Element> {
    client.send(`<iq type='get' to='localhost' id='${id}'><query xmlns='${INFO}'${node === undefined ? '' : ` node='${node}'`}/></iq>`);
    return client.nextMatching((e) => e.attrs.id === id);
  }

  it('advertises <c/> after authentication (§6.3), with SHA-1, the Chorus node and a ver that hashes the server\'s disco#info', async () => {
    const { caps, header, client, preAuth } = await serverWith();
    expect(caps.attrs).to.have.all.keys('xmlns', 'hash', 'node', 'ver');
    expect(caps.attrs).to.include({ hash: 'sha-1', node: CAPS_NODE });
    expect(caps.attrs.node).to.equal('https://chorus.im');
    // §6.3: the requester asks the JID of the response stream header's 'from', so the server must give one.
    expect(header.attrs.from).to.equal('localhost');
    // Before authentication, nothing of it.
    expect(preAuth.getChild('c', CAPS)).to.equal(undefined);

    const r = await ask(client, 'c1');
    expect(r.attrs.type).to.equal('result');
    const query = r.getChild('query', INFO)!;
    // §7: an entity supporting caps says so.
    expect(query.getChildren('feature').map((f) => f.attrs.var)).to.include(CAPS);
    expect(capsVerification(parseInfo(query))).to.equal(caps.attrs.ver);
  });

  it('answers disco#info on NODE#VER with the same identities and features, and the node (§6.2)', async () => {
    const { caps, client } = await serverWith();
    const plain = (await ask(client, 'n1')).getChild('query', INFO)!;
    const node = `${CAPS_NODE}#${caps.attrs.ver}`;
    const r = await ask(client, 'n2', node);
    expect(r.attrs).to.include({ type: 'result', from: 'localhost' });
    const query = r.getChild('query', INFO)!;
    expect(query.attrs.node).to.equal(node);
    expect(query.getChildElements().map((e) => e.toString())).to.deep.equal(plain.getChildElements().map((e) => e.toString()));
    expect(capsVerification(parseInfo(query))).to.equal(caps.attrs.ver);
  });

  it('a caps node with another ver, or the bare caps node, is item-not-found', async () => {
    const { client } = await serverWith();
    expect(condition(await ask(client, 'x1', `${CAPS_NODE}#QgayPKawpkPSDYmwT/WM94uAlu0=`))).to.equal('item-not-found');
    expect(condition(await ask(client, 'x2', CAPS_NODE))).to.equal('item-not-found');
  });

  it('the ver changes with the modules, and still matches the server\'s disco#info', async () => {
    const full = await serverWith();
    const noPing = await serverWith({ modules: { ping: false } });
    expect(noPing.caps.attrs.ver).to.not.equal(full.caps.attrs.ver);
    const query = (await ask(noPing.client, 'm1')).getChild('query', INFO)!;
    expect(query.getChildren('feature').map((f) => f.attrs.var)).to.not.include('urn:xmpp:ping');
    expect(capsVerification(parseInfo(query))).to.equal(noPing.caps.attrs.ver);
    // The old ver is no node of this server.
    expect(condition(await ask(noPing.client, 'm2', `${CAPS_NODE}#${full.caps.attrs.ver}`))).to.equal('item-not-found');
  });

  it('a handler registered while the server runs changes the ver of the next login', async () => {
    const before = await serverWith();
    const t = lastServer();
    const unregister = t.server.hosts.get('localhost')!.iq.handle('get', 'urn:example:late', 'host', () => null, 'test');
    try {
      const after = await serverWith({}, t);
      expect(after.caps.attrs.ver).to.not.equal(before.caps.attrs.ver);
      const query = (await ask(after.client, 'l1')).getChild('query', INFO)!;
      expect(query.getChildren('feature').map((f) => f.attrs.var)).to.include('urn:example:late');
      expect(capsVerification(parseInfo(query))).to.equal(after.caps.attrs.ver);
    } finally {
      unregister();
    }
    const again = await serverWith({}, t);
    expect(again.caps.attrs.ver).to.equal(before.caps.attrs.ver);
  });
});
