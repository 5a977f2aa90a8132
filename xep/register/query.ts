// The jabber:iq:register payload: what a client submits, parsed at the edge into a small record,
// and the forms the server sends. Submissions come as the legacy fields (XEP-0077 §3) or as a
// data form (XEP-0004, XEP-0077 §4), never both.
import { RegisterError } from './errors.ts';
import { x, type Element } from '../../server/xml/element.ts';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';
export const NS_DATA = 'jabber:x:data';
/** XEP-0077 §13.4: the FORM_TYPEs of the three use cases. */
export const FORM_REGISTER = 'jabber:iq:register';
export const FORM_CHANGE_PASSWORD = 'jabber:iq:register:changepassword';

export type Submission =
  | { kind: 'remove' }
  /** Fields as sent; '' when the element was there but empty, undefined when absent. */
  | { kind: 'fields'; username: string | undefined; password: string | undefined };

/** Parse an IQ-set payload. `formTypes` are the FORM_TYPEs a data form may carry here. */
export function parseSubmission(query: Element, formTypes: readonly string[]): Submission {
  const children = query.getChildElements();
  if (children.some((c) => c.name === 'remove' && c.attrs.xmlns === undefined)) {
    // XEP-0077 §3.2: <remove/> must be the only child of <query/>.
    if (children.length !== 1) throw new RegisterError('bad-request', '<remove/> must be the only child of <query/>');
    return { kind: 'remove' };
  }
  const forms = children.filter((c) => c.name === 'x' && c.attrs.xmlns === NS_DATA);
  const legacy = children.filter((c) => c.attrs.xmlns === undefined && (c.name === 'username' || c.name === 'password'));
  if (forms.length > 0) {
    // XEP-0077 §4 rule 5: a client MUST NOT submit both the data form and the predefined fields.
    if (legacy.length > 0 || forms.length > 1) throw new RegisterError('bad-request', 'submit either the data form or the fields, not both');
    return parseForm(forms[0]!, formTypes);
  }
  return { kind: 'fields', username: single(legacy, 'username'), password: single(legacy, 'password') };
}

function single(elements: Element[], name: string): string | undefined {
  const found = elements.filter((e) => e.name === name);
  if (found.length > 1) throw new RegisterError('bad-request', `more than one <${name}/>`);
  return found[0]?.getText();
}

function parseForm(form: Element, formTypes: readonly string[]): Submission {
  // XEP-0004 §3.1: the client answers a form with type 'submit'.
  if (form.attrs.type !== 'submit') throw new RegisterError('bad-request', "the data form must be of type 'submit'");
  const values = new Map<string, string[]>();
  for (const field of form.getChildren('field')) {
    const name = field.attrs.var;
    if (!name) continue;
    if (values.has(name)) throw new RegisterError('bad-request', `the field '${name}' appears twice`);
    values.set(name, field.getChildren('value').map((v) => v.getText()));
  }
  const formType = values.get('FORM_TYPE')?.[0];
  // XEP-0068: the hidden FORM_TYPE names the field set; without one the fields are read as ours.
  if (formType !== undefined && !formTypes.includes(formType)) throw new RegisterError('bad-request', `unexpected FORM_TYPE '${formType}'`);
  const one = (name: string): string | undefined => {
    const v = values.get(name);
    if (v === undefined) return undefined;
    if (v.length > 1) throw new RegisterError('bad-request', `the field '${name}' has several values`);
    return v[0] ?? '';
  };
  return { kind: 'fields', username: one('username'), password: one('password') };
}

/** XEP-0077 §3.1: the fields to fill in, as legacy fields and as a data form (the "x:data form + iq:register fields" combination of §6). */
export function registrationForm(domain: string, minPasswordLength: number): Element {
  const instructions = `Choose a username and a password (at least ${minPasswordLength} characters) for your account on ${domain}.`;
  return x('query', { xmlns: NS_REGISTER },
    x('instructions', null, instructions),
    x('username'),
    x('password'),
    x('x', { xmlns: NS_DATA, type: 'form' },
      x('title', null, `Register on ${domain}`),
      x('instructions', null, instructions),
      x('field', { type: 'hidden', var: 'FORM_TYPE' }, x('value', null, FORM_REGISTER)),
      x('field', { type: 'text-single', label: 'Username', var: 'username' }, x('required')),
      x('field', { type: 'text-private', label: 'Password', var: 'password' }, x('required')),
    ),
  );
}

/** XEP-0077 §3.1: what an authenticated account gets: <registered/> and its username (never its password). */
export function registeredForm(username: string): Element {
  return x('query', { xmlns: NS_REGISTER },
    x('registered'),
    x('instructions', null, 'You are registered. Send a new <password/> to change it, or <remove/> to delete your account.'),
    x('username', null, username),
    x('password'),
  );
}
