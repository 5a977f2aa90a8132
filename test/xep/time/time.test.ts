import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { formatTzo } from '../../../xep/time/index.ts';

const TIME = 'urn:xmpp:time';
const INFO = 'http://jabber.org/protocol/disco#info';
// XEP-0082 §3.2 DateTime expressed in UTC (XEP-0202 §2), fractions of a second allowed.
const UTC_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
// XEP-0082 §2.1 TZD, numeric form.
const TZD = /^[+-]\d{2}:\d{2}$/;

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

async function ask(c: RawClient, xml: string, id: string): Promise<Element> {
  c.send(xml);
  return c.nextMatching((e) => e.attrs.id === id);
}

/** Checks the <time/> element by element and returns [tzo, utc]. */
function timeOf(r: Element): [string, string] {
  expect(r.attrs.type).to.equal('result');
  const payload = r.getChildElements();
  expect(payload.map((e) => [e.name, e.attrs.xmlns])).to.deep.equal([['time', TIME]]);
  const children = payload[0]!.getChildElements();
  expect(children.map((e) => e.name)).to.deep.equal(['tzo', 'utc']);
  expect(children.every((e) => e.getChildElements().length === 0 && Object.keys(e.attrs).length === 0)).to.equal(true);
  return [children[0]!.getText(), children[1]!.getText()];
}

describe('time (XEP-0202)', () => {
  describe('with the defaults', () => {
    let t: TestServer;
    let c: RawClient;
    before(async () => {
      t = await startTestServer();
      await t.addUser('alice', 'pw');
      c = await RawClient.connect(t.c2sPort);
      await c.login('alice', 'pw', 't');
    });
    after(async () => {
      c.destroy();
      await t.stop();
    });

    it('answers the server JID with <tzo/> and <utc/> in the XEP-0082 formats (§2)', async () => {
      const before = Date.now();
      const r = await ask(c, `<iq type='get' to='localhost' id='t1'><time xmlns='${TIME}'/></iq>`, 't1');
      const after = Date.now();
      expect(r.attrs).to.deep.equal({ type: 'result', id: 't1', from: 'localhost', to: 'alice@localhost/t' });
      const [tzo, utc] = timeOf(r);
      expect(tzo).to.match(TZD);
      expect(tzo).to.equal(formatTzo(-new Date().getTimezoneOffset()));
      expect(utc).to.match(UTC_DATETIME);
      const at = Date.parse(utc);
      expect(at).to.be.within(before, after);
    });

    it('is advertised in the server\'s disco#info (§4 MUST)', async () => {
      const r = await ask(c, `<iq type='get' to='localhost' id='t2'><query xmlns='${INFO}'/></iq>`, 't2');
      expect(r.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.include(TIME);
    });

    it('a set is not implemented', async () => {
      const r = await ask(c, `<iq type='set' to='localhost' id='t3'><time xmlns='${TIME}'/></iq>`, 't3');
      expect(condition(r)).to.equal('feature-not-implemented');
    });
  });

  it("with offset 'system', follows the server's time zone (TZ), and 'utc' hides it as +00:00", async () => {
    const saved = process.env.TZ;
    // Node reads TZ again when it changes; Asia/Kolkata is +05:30 all year (no daylight saving).
    process.env.TZ = 'Asia/Kolkata';
    const system = await startTestServer();
    const utcOnly = await startTestServer({ config: { modules: { time: { offset: 'utc' } } } });
    try {
      const answers: [string, string][] = [];
      for (const t of [system, utcOnly]) {
        await t.addUser('alice', 'pw');
        const c = await RawClient.connect(t.c2sPort);
        await c.login('alice', 'pw');
        answers.push(timeOf(await ask(c, `<iq type='get' to='localhost' id='z1'><time xmlns='${TIME}'/></iq>`, 'z1')));
        c.destroy();
      }
      expect(answers.map(([tzo]) => tzo)).to.deep.equal(['+05:30', '+00:00']);
      // <utc/> is UTC either way.
      for (const [, utc] of answers) expect(utc).to.match(UTC_DATETIME);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
      await system.stop();
      await utcOnly.stop();
    }
  });

  it('formats offsets east and west of UTC as (+|-)hh:mm', () => {
    expect([0, 60, -300, 330, -570, 765, -720].map(formatTzo)).to.deep.equal(['+00:00', '+01:00', '-05:00', '+05:30', '-09:30', '+12:45', '-12:00']);
  });
});
