import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer } from '../../support/test-server.ts';
import { RawClient } from '../../support/raw-client.ts';
import { validateConfig, ConfigError } from '../../../server/config/load-config.ts';
import { modules } from '../../../xep/index.ts';

const INFO = 'http://jabber.org/protocol/disco#info';
const DATA = 'jabber:x:data';
const SERVERINFO = 'http://jabber.org/network/serverinfo';

/** Start a server with these addresses, log in, return the disco#info <query/> of the server JID. */
async function serverInfo(addresses: Record<string, string[]> | null): Promise<Element> {
  const t = await startTestServer(addresses ? { config: { modules: { 'contact-addresses': addresses } } } : {});
  try {
    await t.addUser('alice', 'pw');
    const c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'pw', 'ca');
    c.send(`<iq type='get' to='localhost' id='i1'><query xmlns='${INFO}'/></iq>`);
    const r = await c.nextMatching((e) => e.attrs.id === 'i1');
    c.destroy();
    expect(r.attrs).to.include({ type: 'result', from: 'localhost' });
    return r.getChild('query', INFO)!;
  } finally {
    await t.stop();
  }
}

function configProblems(addresses: Record<string, unknown>): string[] {
  try {
    validateConfig({ hosts: [{ domain: 'localhost' }], modules: { 'contact-addresses': addresses } }, modules);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('contact-addresses (XEP-0157)', () => {
  it('publishes the configured addresses as a serverinfo form in the server\'s disco#info (§3), field by field', async () => {
    const q = await serverInfo({
      abuse: ['mailto:abuse@example.org', 'xmpp:abuse@example.org'],
      admin: ['xmpp:admin@localhost?message'],
      security: ['mailto:security@example.org'],
      status: ['https://status.example.org/'],
      support: ['https://example.org/support', 'xmpp:support@localhost'],
    });
    const forms = q.getChildren('x', DATA);
    expect(forms).to.have.length(1);
    const form = forms[0]!;
    expect(form.attrs).to.deep.equal({ xmlns: DATA, type: 'result' });
    const fields = form.getChildElements();
    expect(fields.every((f) => f.name === 'field')).to.equal(true);
    // XEP-0157 §3: the form is scoped by the hidden FORM_TYPE field.
    expect(fields[0]!.attrs).to.deep.equal({ var: 'FORM_TYPE', type: 'hidden' });
    expect(fields[0]!.getChildElements().map((v) => [v.name, v.getText()])).to.deep.equal([['value', SERVERINFO]]);
    // Then one field per role with addresses, in the registry's order (§7.1); empty roles are left out.
    expect(fields.slice(1).map((f) => [f.attrs, f.getChildElements().map((v) => [v.name, v.getText()])])).to.deep.equal([
      [{ var: 'abuse-addresses' }, [['value', 'mailto:abuse@example.org'], ['value', 'xmpp:abuse@example.org']]],
      [{ var: 'admin-addresses' }, [['value', 'xmpp:admin@localhost?message']]],
      [{ var: 'security-addresses' }, [['value', 'mailto:security@example.org']]],
      [{ var: 'status-addresses' }, [['value', 'https://status.example.org/']]],
      [{ var: 'support-addresses' }, [['value', 'https://example.org/support'], ['value', 'xmpp:support@localhost']]],
    ]);
    // The form follows the identity and the features, as in the XEP's example.
    const order = q.getChildElements().map((e) => e.name);
    expect(order.lastIndexOf('feature')).to.be.lessThan(order.indexOf('x'));
  });

  it('publishes every registered role, feedback and sales included', async () => {
    const roles = ['abuse', 'admin', 'feedback', 'sales', 'security', 'status', 'support'];
    const q = await serverInfo(Object.fromEntries(roles.map((r) => [r, [`mailto:${r}@example.org`]])));
    const fields = q.getChild('x', DATA)!.getChildren('field').slice(1);
    expect(fields.map((f) => [f.attrs.var, f.getChildText('value')])).to.deep.equal(roles.map((r) => [`${r}-addresses`, `mailto:${r}@example.org`]));
  });

  it('with no address configured, publishes no form', async () => {
    const q = await serverInfo(null);
    expect(q.getChildren('x', DATA)).to.deep.equal([]);
    expect(q.getChild('identity')!.attrs).to.include({ category: 'server', type: 'im' });
  });

  it('accepts xmpp:, mailto:, https: and http: URIs', () => {
    expect(configProblems({
      abuse: ['xmpp:abuse@example.org', 'xmpp:example.org', 'xmpp:caf%C3%A9@example.org?message', 'XMPP:admin@example.org'],
      admin: ['mailto:a@example.org', 'mailto:a@example.org,b@example.org?subject=XMPP', 'mailto:root@localhost'],
      feedback: ['https://example.org/feedback.php', 'http://example.org/feedback'],
    })).to.deep.equal([]);
  });

  it('refuses anything else at start, naming the key and the value', () => {
    const cases: [string, string][] = [
      ['abuse@example.org', 'must be an xmpp:, mailto:, https: or http: URI'],
      ['tel:+15551234', 'must be an xmpp:, mailto:, https: or http: URI'],
      ['ftp://example.org/', 'must be an xmpp:, mailto:, https: or http: URI'],
      ['xmpp:', 'not a valid JID'],
      ['xmpp:@example.org', 'not a valid JID'],
      ['xmpp:a@b@example.org', 'not a valid JID'],
      ['xmpp:%zz@example.org', 'broken percent-encoding'],
      ['xmpp://guest@example.org/admin@example.org', 'not an authority'],
      ['mailto:', 'names no address'],
      ['mailto:nobody', 'is not an email address'],
      ['mailto:a b@example.org', 'is not an email address'],
      ['mailto:a@example', 'is not an email address'],
      ['https://', 'not a valid URL'],
      ['https://user:secret@example.org/', 'must not carry credentials'],
    ];
    for (const [value, problem] of cases) {
      const problems = configProblems({ security: [value] });
      expect(problems, value).to.have.length(1);
      expect(problems[0], value).to.contain('modules.contact-addresses.security.0').and.contain(JSON.stringify(value)).and.contain(problem);
    }
  });

  it('refuses an address listed twice, and unknown roles', () => {
    expect(configProblems({ abuse: ['mailto:a@example.org', 'mailto:a@example.org'] })[0]).to.contain('modules.contact-addresses.abuse').and.contain('listed twice');
    expect(configProblems({ hr: ['mailto:hr@example.org'] })[0]).to.contain('hr');
  });
});
