// XEP-0077 In-Band Registration: creating an account on a stream that has not authenticated
// yet (only when the operator allows it), and, for an authenticated account, changing its
// password and cancelling its registration.
import { z } from 'zod';
import { RegisterError } from './errors.ts';
import { Band } from '../../server/hooks.ts';
import { jid, parseJid, JidError, type Jid } from '../../server/jid.ts';
import { AccountExistsError, NoSuchAccountError } from '../../server/accounts.ts';
import { InvalidPasswordError, saslprep } from '../../server/sasl/credentials.ts';
import { x } from '../../server/xml/element.ts';
import type { Module, ModuleContext } from '../../server/module.ts';
import type { IqRequest, UnauthenticatedIqRequest, UnauthenticatedStream } from '../../server/iq-table.ts';
import { AddressLimiter } from './address-limiter.ts';
import {
  FORM_CHANGE_PASSWORD, FORM_REGISTER, NS_REGISTER, NS_REGISTER_FEATURE,
  parseSubmission, registeredForm, registrationForm,
} from './query.ts';

const configSchema = z.strictObject({
  allowRegistration: z
    .boolean()
    .default(false)
    .describe('Let anyone create an account in-band, on an encrypted stream before authentication (XEP-0077 §3.1.1); off by default, so a public domain opts in'),
  allowPasswordChange: z.boolean().default(true).describe('Let an authenticated account change its password in-band (XEP-0077 §3.3)'),
  allowCancellation: z.boolean().default(true).describe('Let an authenticated account delete itself in-band, with all its data (XEP-0077 §3.2)'),
  minPasswordLength: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(8)
    .describe('Shortest password, in characters, accepted for a new account or a password change (shorter: <not-acceptable/>)'),
  throttle: z
    .strictObject({
      attempts: z.number().int().min(1).default(5).describe('Registration attempts allowed from one address (IPv6: one /64) in the window'),
      windowSeconds: z.number().int().min(1).default(3600).describe('Length of the window'),
    })
    .prefault({})
    .describe('In-band registration attempts per client address (more: <not-acceptable/> of type wait)'),
});

export type RegisterConfig = z.output<typeof configSchema>;

export const register: Module<RegisterConfig> = {
  name: 'register',
  specs: ['XEP-0077 v2.5 (jabber:iq:register, http://jabber.org/features/iq-register)'],
  config: configSchema,
  setup(ctx) {
    // The account's own requests: without 'to' (RFC 6120 §10.3.3, target 'account') or to the domain.
    const get = (req: IqRequest) => registeredForm(ownAccount(ctx, req).local);
    const set = (req: IqRequest) => manageAccount(ctx, req);
    for (const target of ['host', 'account'] as const) {
      // XEP-0077 §10: jabber:iq:register is a disco feature of the server, not of each account.
      ctx.iq.handle('get', NS_REGISTER, target, get, { feature: target === 'host' });
      ctx.iq.handle('set', NS_REGISTER, target, set, { feature: target === 'host' });
    }
    if (!ctx.config.allowRegistration) return;

    const { throttle, minPasswordLength } = ctx.config;
    const limiter = new AddressLimiter(throttle.attempts, throttle.windowSeconds * 1000);
    // XEP-0077 §8: the stream feature; only where registration is allowed (XEP-0077 §11: encrypted streams only).
    ctx.hooks.observe('c2s/unauthenticated-features', Band.Notify, ({ secure, features }) => {
      if (secure) features.push(x('register', { xmlns: NS_REGISTER_FEATURE }));
    });
    ctx.iq.handle('get', NS_REGISTER, 'unauthenticated', (req) => {
      requireEncryption(req.stream);
      return registrationForm(ctx.host.domain, minPasswordLength);
    }, { feature: false });
    ctx.iq.handle('set', NS_REGISTER, 'unauthenticated', (req) => registerAccount(ctx, req, limiter), { feature: false });
  },
};

/** XEP-0077 §3.1 and §3.1.1: create an account for a client that has not authenticated. */
async function registerAccount(ctx: ModuleContext<RegisterConfig>, req: UnauthenticatedIqRequest, limiter: AddressLimiter): Promise<null> {
  requireEncryption(req.stream);
  const submission = parseSubmission(req.payload, [FORM_REGISTER]);
  // XEP-0077 §3.2: removing a registration needs an authenticated sender.
  if (submission.kind === 'remove') throw new RegisterError('unexpected-request', 'authenticate before cancelling a registration');
  const { username, password } = submission;
  // XEP-0077 §3.1: missing information, an empty password included, is not-acceptable.
  if (!username || !password) throw new RegisterError('not-acceptable', 'a username and a password are required');
  let account: Jid;
  try {
    // RFC 7622 §3.3: the username becomes the localpart, so it must be a valid one.
    account = jid(username, ctx.host.domain);
  } catch (err) {
    if (err instanceof JidError) throw new RegisterError('jid-malformed', `the username is not allowed: ${err.message}`);
    throw err;
  }
  checkPassword(password, ctx.config.minPasswordLength);
  // XEP-0077 §3.1.1: a server MAY refuse with not-acceptable after too many registrations. Only
  // well-formed attempts count (a typo costs nothing), conflicts included (no free name probing).
  if (!limiter.take(req.stream.remoteAddress)) {
    throw new RegisterError('not-acceptable', 'too many registrations from your address; try again later', 'wait');
  }
  try {
    await ctx.accounts.create(account, password);
  } catch (err) {
    if (err instanceof AccountExistsError) throw new RegisterError('conflict', 'this username is taken');
    if (err instanceof InvalidPasswordError) throw new RegisterError('not-acceptable', err.message);
    throw err;
  }
  ctx.log.info({ account: account.toString(), address: req.stream.remoteAddress }, 'account registered in-band');
  return null;
}

/** XEP-0077 §3.2 (cancellation) and §3.3 (password change), for the sending account only. */
async function manageAccount(ctx: ModuleContext<RegisterConfig>, req: IqRequest): Promise<null> {
  const account = ownAccount(ctx, req);
  const submission = parseSubmission(req.payload, [FORM_CHANGE_PASSWORD, FORM_REGISTER]);
  if (submission.kind === 'remove') return cancelRegistration(ctx, account);
  try {
    await changePassword(ctx, account, submission.username, submission.password);
  } catch (err) {
    // XEP-0077 §3.3: errors about a password change SHOULD NOT carry the original XML (the password).
    req.stanza.remove(req.payload);
    throw err;
  }
  return null;
}

async function cancelRegistration(ctx: ModuleContext<RegisterConfig>, account: Jid): Promise<null> {
  if (!ctx.config.allowCancellation) throw new RegisterError('not-allowed', 'accounts cannot be deleted in-band here');
  if (!(await ctx.accounts.exists(account))) throw new RegisterError('registration-required');
  // XEP-0077 §3.2: the result first, then the account goes. Removing it ends every session with
  // <not-authorized/> (the core's listener) and lets every module delete its data. The router
  // writes the result as soon as this handler resolves, before the next turn of the event loop.
  setImmediate(() => {
    ctx.accounts.remove(account).then(
      () => ctx.log.info({ account: account.toString() }, 'account removed in-band'),
      (err: unknown) => ctx.log.error({ err, account: account.toString() }, 'removing an account failed'),
    );
  });
  return null;
}

async function changePassword(ctx: ModuleContext<RegisterConfig>, account: Jid, username: string | undefined, password: string | undefined): Promise<void> {
  if (!ctx.config.allowPasswordChange) throw new RegisterError('not-allowed', 'passwords cannot be changed in-band here');
  // The username may be left out (the sender is the account); when given it must name the sender.
  if (username !== undefined && !namesAccount(username, account)) throw new RegisterError('forbidden', 'an account can change only its own password');
  // XEP-0077 §3.3: an empty password never replaces the existing one.
  if (!password) throw new RegisterError('bad-request', 'the new password is missing');
  checkPassword(password, ctx.config.minPasswordLength);
  try {
    await ctx.accounts.setPassword(account, password);
  } catch (err) {
    if (err instanceof InvalidPasswordError) throw new RegisterError('not-acceptable', err.message);
    if (err instanceof NoSuchAccountError) throw new RegisterError('registration-required');
    throw err;
  }
  ctx.log.info({ account: account.toString() }, 'password changed in-band');
}

/** The sender's bare JID, when it is a local account of this host asking about itself (XEP-0077 §3.2: by its session). */
function ownAccount(ctx: ModuleContext<RegisterConfig>, req: IqRequest): Jid {
  const sender = req.from.bare();
  if (req.session === null || sender.domain !== ctx.host.domain || (req.account !== null && !req.account.equals(sender))) {
    throw new RegisterError('service-unavailable');
  }
  return sender;
}

/** A username as clients send it: the localpart (XEP-0077 §3.3 example) or the bare JID (the data form examples). */
function namesAccount(username: string, account: Jid): boolean {
  try {
    if (username.includes('@')) return parseJid(username).equals(account);
    return jid(username, account.domain).equals(account);
  } catch (err) {
    if (err instanceof JidError) return false;
    throw err;
  }
}

function checkPassword(password: string, minLength: number): void {
  if (saslprep(password) === undefined) throw new RegisterError('not-acceptable', 'the password has characters that are not allowed (RFC 4013)');
  if ([...password].length < minLength) throw new RegisterError('not-acceptable', `the password must have at least ${minLength} characters`);
}

/** XEP-0077 §11: registration sends a password in the clear inside the stream, so only over TLS. */
function requireEncryption(stream: UnauthenticatedStream): void {
  if (!stream.secure) throw new RegisterError('not-authorized', 'registration needs an encrypted stream');
}
