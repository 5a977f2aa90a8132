// Shared by the vcard tests: logged-in raw clients, IQ round trips, and element trees to compare.
import { createHash } from 'node:crypto';
import type { Element } from 'ltx';
import { RawClient, NS } from '../../support/raw-client.ts';
import type { TestServer } from '../../support/test-server.ts';

export const VCARD = 'vcard-temp';
export const UPDATE = 'vcard-temp:x:update';

export function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

/** Logged-in clients of one test server, destroyed together. */
export class Clients {
  private readonly all: RawClient[] = [];
  constructor(private readonly t: TestServer) {}

  async login(user: string, resource = 'r', password = 'pw'): Promise<RawClient> {
    const c = await RawClient.connect(this.t.c2sPort);
    this.all.push(c);
    await c.login(user, password, resource);
    return c;
  }

  destroy(): void {
    for (const c of this.all.splice(0)) c.destroy();
  }
}

export async function iq(c: RawClient, xml: string, id: string): Promise<Element> {
  c.send(xml);
  return c.nextMatching((e) => e.name === 'iq' && e.attrs.id === id);
}

/** An element as plain data (name, attributes, children in order, adjacent text merged), for deep equality. */
export interface Tree {
  name: string;
  attrs: Record<string, string>;
  children: (Tree | string)[];
}
export function tree(el: Element): Tree {
  const children: (Tree | string)[] = [];
  for (const c of el.children) {
    if (typeof c === 'string') {
      const last = children[children.length - 1];
      if (typeof last === 'string') children[children.length - 1] = last + c;
      else children.push(c);
    } else {
      children.push(tree(c as Element));
    }
  }
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(el.attrs)) if (v !== undefined && v !== null) attrs[k] = String(v);
  return { name: el.name, attrs, children };
}

/** Some image bytes, their base64 in 76-character lines (as RFC 2045 §6.8 writes it), and their SHA-1. */
export function avatar(seed: string): { binval: string; hash: string } {
  const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(seed.repeat(40))]);
  const b64 = bytes.toString('base64');
  const lines = b64.match(/.{1,76}/g)!.join('\n');
  return { binval: lines, hash: createHash('sha1').update(bytes).digest('hex') };
}

export function vcardWithPhoto(seed: string, fn = 'Juliet Capulet'): { xml: string; hash: string } {
  const { binval, hash } = avatar(seed);
  return { xml: `<vCard xmlns='${VCARD}'><FN>${fn}</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>\n${binval}\n</BINVAL></PHOTO></vCard>`, hash };
}

/** The update element of a presence: its count and the photo text (null: no <photo/>). */
export function photoOf(presence: Element): { count: number; photo: string | null | undefined } {
  const xs = presence.getChildren('x', UPDATE);
  const photo = xs[0]?.getChild('photo');
  return { count: xs.length, photo: xs.length === 0 ? undefined : photo ? photo.getText() : null };
}
