// The module's stanza errors. XEP-0077 §9: a server MUST send both the RFC 6120 conditions and
// the old HTTP-style 'code' attribute (XEP-0086 §3 maps one to the other), so every error this
// module raises carries both. Errors the router raises for it (an unknown namespace) do not.
import { StanzaError, type StanzaErrorCondition, type StanzaErrorType } from '../../server/errors.ts';
import type { Element } from '../../server/xml/element.ts';

/** XEP-0086 §3: the legacy code of each condition this module uses. */
const LEGACY_CODE = {
  'bad-request': 400,
  'conflict': 409,
  'forbidden': 403,
  'jid-malformed': 400,
  'not-acceptable': 406,
  'not-allowed': 405,
  'not-authorized': 401,
  'registration-required': 407,
  'service-unavailable': 503,
  'unexpected-request': 400,
} as const satisfies Partial<Record<StanzaErrorCondition, number>>;

export type RegisterErrorCondition = keyof typeof LEGACY_CODE;

export class RegisterError extends StanzaError {
  constructor(condition: RegisterErrorCondition, text?: string, type?: StanzaErrorType) {
    super(condition, text, type);
  }

  override toElement(by?: string): Element {
    const el = super.toElement(by);
    el.attrs.code = String(LEGACY_CODE[this.condition as RegisterErrorCondition]);
    return el;
  }
}
