// Shared by the register module's tests: streams before authentication, IQ round trips and
// error conditions.
import type { Element } from 'ltx';
import { RawClient, NS } from '../../support/raw-client.ts';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_FEATURE = 'http://jabber.org/features/iq-register';
export const NS_DATA = 'jabber:x:data';

export const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The defined condition of a stanza error, and its type. */
export function stanzaError(el: Element): { condition: string | undefined; type: string | undefined } {
  const error = el.getChild('error');
  return { condition: error?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas && c.name !== 'text')?.name, type: error?.attrs.type };
}

/** A TCP stream after STARTTLS, before SASL: the client and the features it was offered. */
export async function unauthenticated(port: number, clients: RawClient[], localAddress?: string): Promise<{ c: RawClient; features: Element }> {
  const c = await RawClient.connect(port, { localAddress });
  clients.push(c);
  await c.open();
  await c.startTls();
  return { c, features: await c.open() };
}

export async function iq(c: { send(xml: string): void; nextMatching(match: (el: Element) => boolean): Promise<Element> }, xml: string, id: string): Promise<Element> {
  c.send(xml);
  return c.nextMatching((e) => e.name === 'iq' && e.attrs.id === id);
}

export function registerIq(id: string, username: string | null, password: string | null): string {
  const u = username === null ? '' : `<username>${username}</username>`;
  const p = password === null ? '' : `<password>${password}</password>`;
  return `<iq type='set' id='${id}'><query xmlns='${NS_REGISTER}'>${u}${p}</query></iq>`;
}

/** SASL PLAIN on a stream whose features were just read; resolves to 'success' or the failure condition. */
export async function plain(c: RawClient, user: string, password: string): Promise<string> {
  c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64(`\0${user}\0${password}`)}</auth>`);
  const r = await c.next();
  return r.name === 'success' ? 'success' : (r.getChildElements()[0]?.name ?? r.toString());
}

/** A full login (STARTTLS, PLAIN, bind) on a new connection; resolves to 'success' or the failure. */
export async function tryLogin(port: number, clients: RawClient[], user: string, password: string): Promise<string> {
  const c = await RawClient.connect(port);
  clients.push(c);
  try {
    await c.login(user, password, 'check');
    return 'success';
  } catch (err) {
    return (err as Error).message;
  }
}
