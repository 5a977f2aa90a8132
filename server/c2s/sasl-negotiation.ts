// RFC 6120 §6: the SASL exchange on a client stream. Mechanisms live in server/sasl/;
// this file speaks the XML around them and applies the retry and throttling policy.
import { SaslFailure, StreamError, type SaslFailureCondition } from '../errors.ts';
import { x, type Element } from '../xml/element.ts';
import { availableMechanisms, startMechanism, type SaslExchange, type SaslContext, type ChannelBindingType } from '../sasl/mechanism.ts';
import { jid, normalizeLocalpart, JidError, type Jid } from '../jid.ts';
import type { ClientSession } from './client-session.ts';
import type { C2sServices } from './c2s-services.ts';
import { reportAuthFailure, reportAuthSuccess } from './auth-report.ts';

export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
export const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';

export class SaslNegotiation {
  private exchange: SaslExchange | null = null;
  private failures = 0;
  /** The account named in the current exchange, for per-account throttling. */
  private attempted: string | undefined;
  /** The mechanism the client asked for last, for logs and metrics. */
  private mechanism = '';

  constructor(
    private readonly session: ClientSession,
    private readonly services: C2sServices,
  ) {}

  /** What this stream offers; it changes only when TLS starts, so it is worked out once per state. */
  private offeredCache: { secure: boolean; mechanisms: string[] } | null = null;

  private offered(): string[] {
    const stream = this.session.stream;
    if (this.offeredCache?.secure !== stream.secure) {
      const mechanisms = availableMechanisms({
        secure: stream.secure,
        channelBindings: stream.channelBindingTypes(),
        enabled: this.services.config.sasl.mechanisms,
      });
      this.offeredCache = { secure: stream.secure, mechanisms };
    }
    return this.offeredCache.mechanisms;
  }

  mechanismsFeature(): Element {
    return x('mechanisms', { xmlns: NS_SASL }, this.offered().map((m) => x('mechanism', null, m)));
  }

  /** XEP-0440: the channel-binding types this connection supports. */
  channelBindingFeature(): Element | null {
    const types = this.session.stream.channelBindingTypes();
    if (types.length === 0) return null;
    return x('sasl-channel-binding', { xmlns: NS_SASL_CB }, types.map((type) => x('channel-binding', { type })));
  }

  refuse(condition: SaslFailureCondition, text?: string): void {
    this.session.send(failureElement(condition, text));
  }

  handle(el: Element): void | Promise<void> {
    switch (el.name) {
      case 'auth':
        return this.auth(el);
      case 'response':
        if (!this.exchange) return this.fail(new SaslFailure('malformed-request', 'no authentication is in progress'));
        return this.step(el);
      case 'abort':
        // RFC 6120 §6.4.4
        this.exchange?.abort();
        this.exchange = null;
        return this.refuse('aborted');
      default:
        return this.session.close(new StreamError('unsupported-stanza-type'));
    }
  }

  private auth(el: Element): void | Promise<void> {
    const ip = this.session.stream.remoteAddress;
    const verdict = this.services.throttle.admit(ip);
    const mechanism = (this.mechanism = el.attrs.mechanism ?? '');
    this.attempted = undefined;
    if (!verdict.allowed) {
      reportAuthFailure(this.session, this.services, mechanism, undefined, 'temporary-auth-failure');
      return this.refuse('temporary-auth-failure', 'too many failed attempts; try again later');
    }
    const offered = this.offered();
    if (!offered.includes(mechanism)) {
      // PLAIN exists but is withheld on an unencrypted stream (RFC 6120 §6.4.2 'encryption-required').
      const condition = mechanism === 'PLAIN' && !this.session.stream.secure && this.services.config.sasl.mechanisms.includes('PLAIN')
        ? 'encryption-required'
        : 'invalid-mechanism';
      return this.fail(new SaslFailure(condition));
    }
    try {
      this.exchange = startMechanism(mechanism, this.context());
    } catch (err) {
      return this.fail(err);
    }
    return this.step(el);
  }

  private context(): SaslContext {
    const stream = this.session.stream;
    const host = this.session.host!;
    return {
      getCredentials: async (username: string) => {
        this.attempted = username;
        // Per-account throttling applies as soon as the mechanism names the account.
        const verdict = this.services.throttle.check(stream.remoteAddress, accountKey(username, host.domain));
        if (!verdict.allowed) throw new SaslFailure('temporary-auth-failure', 'too many failed attempts; try again later');
        let account: Jid;
        try {
          account = jid(normalizeLocalpart(username), host.domain);
        } catch (err) {
          if (err instanceof JidError) return null;
          throw err;
        }
        return this.services.accounts.credentials(account);
      },
      channelBinding: (type: ChannelBindingType) => stream.channelBinding(type),
      secure: stream.secure,
      plusOffered: this.offered().some((m) => m.endsWith('-PLUS')),
      acceptTlsUnique: this.services.config.sasl.acceptTlsUnique,
      scramIterations: this.services.config.sasl.scramIterations,
    };
  }

  private async step(el: Element): Promise<void> {
    const exchange = this.exchange!;
    const data = decodePayload(el.getText());
    if (data === undefined) return this.fail(new SaslFailure('incorrect-encoding'));
    try {
      const result = await exchange.step(data);
      if (this.exchange !== exchange) return; // aborted meanwhile
      if (result.kind === 'challenge') {
        this.session.send(x('challenge', { xmlns: NS_SASL }, result.data.length ? result.data.toString('base64') : '='));
        return;
      }
      const host = this.session.host!;
      const user = jid(normalizeLocalpart(result.username), host.domain);
      // RFC 6120 §6.4.6: an authorization identity other than the account itself is not allowed.
      if (result.authzid !== undefined && result.authzid !== '' && result.authzid !== user.toString()) {
        return this.fail(new SaslFailure('invalid-authzid'));
      }
      this.exchange = null;
      this.services.throttle.recordSuccess(this.session.stream.remoteAddress, user.toString());
      reportAuthSuccess(this.session, this.services, this.mechanism, user);
      this.session.send(x('success', { xmlns: NS_SASL }, result.data && result.data.length ? result.data.toString('base64') : null));
      this.session.authenticated(user);
      this.session.restartStream();
    } catch (err) {
      return this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.exchange = null;
    if (!(err instanceof SaslFailure)) throw err;
    this.refuse(err.condition, err.text);
    const host = this.session.host!;
    const account = this.attempted !== undefined ? accountKey(this.attempted, host.domain) : undefined;
    if (err.condition !== 'aborted') reportAuthFailure(this.session, this.services, this.mechanism, account, err.condition);
    if (err.condition === 'aborted' || err.condition === 'temporary-auth-failure') return;
    this.services.throttle.recordFailure(this.session.stream.remoteAddress, account);
    // RFC 6120 §6.4.5: a configurable number of retries (2 to 5), then the stream is closed.
    if (++this.failures >= this.services.config.c2s.maxAuthFailures) {
      this.session.close(new StreamError('policy-violation', 'too many failed authentication attempts'));
    }
  }
}

/** The throttling key of a SASL username: its normalised form, so 'Alice' and 'alice' count as one. */
function accountKey(username: string, domain: string): string {
  try {
    return `${normalizeLocalpart(username)}@${domain}`;
  } catch {
    return `${username}@${domain}`;
  }
}

function failureElement(condition: SaslFailureCondition, text?: string): Element {
  return x('failure', { xmlns: NS_SASL }, x(condition), text ? x('text', { 'xml:lang': 'en' }, text) : null);
}

/**
 * RFC 6120 §6.4.2: no text means no data; '=' means an empty response; anything else must be
 * valid base64 (strictly: no whitespace, correct padding). Undefined when it is not.
 */
export function decodePayload(text: string): Buffer | null | undefined {
  if (text === '') return null;
  if (text === '=') return Buffer.alloc(0);
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}
