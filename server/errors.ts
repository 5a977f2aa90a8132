// Protocol failures as named values (DESIGN.md: Conventions). Conditions are literal unions of the RFC's names.
import { Element, x } from './xml/element.ts';

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
export const NS_STREAM = 'http://etherx.jabber.org/streams';

/** RFC 6120 §8.3.3 */
export type StanzaErrorCondition =
  | 'bad-request' | 'conflict' | 'feature-not-implemented' | 'forbidden' | 'gone'
  | 'internal-server-error' | 'item-not-found' | 'jid-malformed' | 'not-acceptable'
  | 'not-allowed' | 'not-authorized' | 'policy-violation' | 'recipient-unavailable'
  | 'redirect' | 'registration-required' | 'remote-server-not-found'
  | 'remote-server-timeout' | 'resource-constraint' | 'service-unavailable'
  | 'subscription-required' | 'undefined-condition' | 'unexpected-request';

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** RFC 6120 §8.3.3: the error type each condition normally carries. */
const DEFAULT_TYPE: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify', 'conflict': 'cancel', 'feature-not-implemented': 'cancel',
  'forbidden': 'auth', 'gone': 'cancel', 'internal-server-error': 'cancel',
  'item-not-found': 'cancel', 'jid-malformed': 'modify', 'not-acceptable': 'modify',
  'not-allowed': 'cancel', 'not-authorized': 'auth', 'policy-violation': 'modify',
  'recipient-unavailable': 'wait', 'redirect': 'modify', 'registration-required': 'auth',
  'remote-server-not-found': 'cancel', 'remote-server-timeout': 'wait',
  'resource-constraint': 'wait', 'service-unavailable': 'cancel',
  'subscription-required': 'auth', 'undefined-condition': 'cancel', 'unexpected-request': 'wait',
};

export class StanzaError extends Error {
  readonly type: StanzaErrorType;
  constructor(
    readonly condition: StanzaErrorCondition,
    readonly text?: string,
    type?: StanzaErrorType,
    /** An application-specific condition element (RFC 6120 §8.3.4). */
    readonly appCondition?: Element,
  ) {
    super(text ?? condition);
    this.type = type ?? DEFAULT_TYPE[condition];
  }

  /** The `<error/>` child (RFC 6120 §8.3.2). `by` is the entity that generated it. */
  toElement(by?: string): Element {
    return x('error', { type: this.type, by },
      x(this.condition, { xmlns: NS_STANZAS }),
      this.text ? x('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, this.text) : null,
      this.appCondition ?? null,
    );
  }
}

/** RFC 6120 §4.9.3 */
export type StreamErrorCondition =
  | 'bad-format' | 'bad-namespace-prefix' | 'conflict' | 'connection-timeout' | 'host-gone'
  | 'host-unknown' | 'improper-addressing' | 'internal-server-error' | 'invalid-from'
  | 'invalid-namespace' | 'invalid-xml' | 'not-authorized' | 'not-well-formed'
  | 'policy-violation' | 'remote-connection-failed' | 'reset' | 'resource-constraint'
  | 'restricted-xml' | 'see-other-host' | 'system-shutdown' | 'undefined-condition'
  | 'unsupported-encoding' | 'unsupported-feature' | 'unsupported-stanza-type'
  | 'unsupported-version';

export class StreamError extends Error {
  constructor(readonly condition: StreamErrorCondition, readonly text?: string) {
    super(text ? `${condition}: ${text}` : condition);
  }

  /** `<stream:error/>`, written with the `stream` prefix the stream header declares. */
  toElement(): Element {
    return x('stream:error', null,
      x(this.condition, { xmlns: NS_STREAMS }),
      this.text ? x('text', { xmlns: NS_STREAMS, 'xml:lang': 'en' }, this.text) : null,
    );
  }
}

/** RFC 6120 §6.5 SASL failure conditions. */
export type SaslFailureCondition =
  | 'aborted' | 'account-disabled' | 'credentials-expired' | 'encryption-required'
  | 'incorrect-encoding' | 'invalid-authzid' | 'invalid-mechanism' | 'malformed-request'
  | 'mechanism-too-weak' | 'not-authorized' | 'temporary-auth-failure';

export class SaslFailure extends Error {
  constructor(readonly condition: SaslFailureCondition, readonly text?: string) {
    super(text ? `${condition}: ${text}` : condition);
  }
}
