// Shared by the blocking tests: a logged-in raw client with a few conveniences.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { RawClient, NS } from '../../support/raw-client.ts';
import type { TestServer } from '../../support/test-server.ts';

export const BLOCKING = 'urn:xmpp:blocking';
export const BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

let ids = 0;

export class User {
  /** Elements read while looking for another one, for later next() calls (pushes and results may come in either order). */
  private readonly pending: Element[] = [];

  private constructor(
    readonly raw: RawClient,
    /** The bound full JID. */
    readonly jid: string,
  ) {}

  static async login(t: TestServer, local: string, resource: string, domain = 'localhost'): Promise<User> {
    const raw = await RawClient.connect(t.c2sPort);
    const jid = await raw.login(local, 'pw', resource, domain);
    return new User(raw, jid);
  }

  send(xml: string): void {
    this.raw.send(xml);
  }

  /** Send an IQ (its id is filled in) and return the answer. */
  async iq(xml: (id: string) => string): Promise<Element> {
    const id = `q${++ids}`;
    this.raw.send(xml(id));
    return this.next((e) => e.name === 'iq' && e.attrs.id === id && (e.attrs.type === 'result' || e.attrs.type === 'error'));
  }

  async blocklist(): Promise<string[]> {
    const r = await this.iq((id) => `<iq type='get' id='${id}'><blocklist xmlns='${BLOCKING}'/></iq>`);
    expect(r.attrs.type, r.toString()).to.equal('result');
    const list = r.getChild('blocklist', BLOCKING)!;
    return list.getChildElements().map((i) => {
      expect(i.name).to.equal('item');
      return i.attrs.jid as string;
    });
  }

  async block(...jids: string[]): Promise<Element> {
    return this.iq((id) => `<iq type='set' id='${id}'><block xmlns='${BLOCKING}'>${jids.map((j) => `<item jid='${j}'/>`).join('')}</block></iq>`);
  }

  async unblock(...jids: string[]): Promise<Element> {
    return this.iq((id) => `<iq type='set' id='${id}'><unblock xmlns='${BLOCKING}'>${jids.map((j) => `<item jid='${j}'/>`).join('')}</unblock></iq>`);
  }

  /** Initial presence; resolves when the server has reflected it back (RFC 6121 §4.2.2). */
  async available(extra = ''): Promise<void> {
    this.raw.send(`<presence>${extra}</presence>`);
    await this.next((e) => e.name === 'presence' && e.attrs.from === this.jid && e.attrs.to === undefined);
  }

  /** The first element, already read or still to come, that matches; the others stay for later. */
  async next(match: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> {
    const i = this.pending.findIndex(match);
    if (i >= 0) return this.pending.splice(i, 1)[0]!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const el = await this.raw.next(Math.max(1, deadline - Date.now()));
      if (match(el)) return el;
      this.pending.push(el);
    }
  }

  /**
   * Everything the server sends before the answer to a ping sent now: whatever was delivered to
   * this client before the ping was handled. Used to show that something did NOT arrive.
   */
  async drain(): Promise<Element[]> {
    const id = `drain${++ids}`;
    this.raw.send(`<iq type='get' id='${id}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const out = this.pending.splice(0);
    for (;;) {
      const el = await this.raw.next();
      if (el.name === 'iq' && el.attrs.id === id) return out;
      out.push(el);
    }
  }

  close(): void {
    this.raw.destroy();
  }
}

/** The defined condition of a stanza error. */
export function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

/** Expect `el` to be XEP-0191's "blocked" error: not-acceptable (type cancel) with <blocked/>. */
export function expectBlockedError(el: Element): void {
  expect(el.attrs.type, el.toString()).to.equal('error');
  const error = el.getChild('error')!;
  expect(error.attrs.type).to.equal('cancel');
  expect(condition(el)).to.equal('not-acceptable');
  expect(error.getChild('blocked', BLOCKING_ERRORS), el.toString()).to.not.equal(undefined);
}

/** Items of a push (<block/> or <unblock/>). */
export function pushItems(el: Element, name: 'block' | 'unblock'): string[] {
  expect(el.attrs.type).to.equal('set');
  const payload = el.getChild(name, BLOCKING)!;
  expect(payload, el.toString()).to.not.equal(undefined);
  return payload.getChildren('item').map((i) => i.attrs.jid as string);
}

export function isPush(name: 'block' | 'unblock') {
  return (el: Element) => el.name === 'iq' && el.attrs.type === 'set' && el.getChild(name, BLOCKING) !== undefined;
}
