// The subscription state machine against RFC 6121 Appendix A, state by state: for each state and
// stanza, the next state, whether the stanza passes (routed outbound / delivered inbound), the
// auto-reply and the presence the server must send.
import { expect } from 'chai';
import { inbound, outbound, NO_RELATION, type SubscriptionState, type SubscriptionType, type Outcome } from '../../../server/im/subscription-state.ts';
import type { Subscription } from '../../../server/im/roster-store.ts';

function st(subscription: Subscription, flags: { ask?: boolean; pendingIn?: boolean; approved?: boolean } = {}): SubscriptionState {
  return { ...NO_RELATION, subscription, ask: flags.ask ?? false, pendingIn: flags.pendingIn ?? false, approved: flags.approved ?? false };
}

/** The state after the outcome: the same one when nothing changes. */
function after(state: SubscriptionState, o: Outcome): SubscriptionState {
  return o.next ?? state;
}

describe('subscription state machine (RFC 6121 Appendix A)', () => {
  describe('outbound (the account sends)', () => {
    const cases: [string, SubscriptionState, SubscriptionType, SubscriptionState, boolean, Outcome['presence']?][] = [
      // A.2.1 subscribe
      ['None + subscribe → None + Pending Out', st('none'), 'subscribe', st('none', { ask: true }), true],
      ['None + Pending In + subscribe → also Pending Out', st('none', { pendingIn: true }), 'subscribe', st('none', { pendingIn: true, ask: true }), true],
      ['From + subscribe → From + Pending Out', st('from'), 'subscribe', st('from', { ask: true }), true],
      ['To + subscribe: no change, still routed', st('to'), 'subscribe', st('to'), true],
      ['Both + subscribe: no change, still routed', st('both'), 'subscribe', st('both'), true],
      // A.2.2 unsubscribe
      ['To + unsubscribe → None', st('to'), 'unsubscribe', st('none'), true],
      ['Both + unsubscribe → From', st('both'), 'unsubscribe', st('from'), true],
      ['None + Pending Out + unsubscribe → None', st('none', { ask: true }), 'unsubscribe', st('none'), true],
      // subscribed: approval, pre-approval, nothing
      ['None + Pending In + subscribed → From, presence sent', st('none', { pendingIn: true }), 'subscribed', st('from'), true, 'available'],
      ['To + Pending In + subscribed → Both, presence sent', st('to', { pendingIn: true }), 'subscribed', st('both'), true, 'available'],
      ['None + subscribed → pre-approved, not routed (§3.4)', st('none'), 'subscribed', st('none', { approved: true }), false],
      ['From + subscribed: no change, not routed', st('from'), 'subscribed', st('from'), false],
      // unsubscribed: cancel, deny
      ['From + unsubscribed → None, unavailable sent', st('from'), 'unsubscribed', st('none'), true, 'unavailable'],
      ['Both + unsubscribed → To, unavailable sent', st('both'), 'unsubscribed', st('to'), true, 'unavailable'],
      ['None + Pending In + unsubscribed → None (denied)', st('none', { pendingIn: true }), 'unsubscribed', st('none'), true],
      ['pre-approved + unsubscribed → approval withdrawn', st('none', { approved: true }), 'unsubscribed', st('none'), true],
    ];
    for (const [name, state, type, expected, pass, presence] of cases) {
      it(name, () => {
        const o = outbound(state, type);
        expect(after(state, o)).to.deep.equal(expected);
        expect(o.pass).to.equal(pass);
        expect(o.presence).to.equal(presence);
        expect(o.autoReply).to.equal(undefined);
      });
    }
  });

  describe('inbound (the contact sends)', () => {
    const cases: [string, SubscriptionState, SubscriptionType, SubscriptionState, boolean, Outcome['autoReply'], Outcome['presence']][] = [
      // A.3.1 subscribe
      ['None + subscribe → None + Pending In, delivered', st('none'), 'subscribe', st('none', { pendingIn: true }), true, undefined, undefined],
      ['To + subscribe → To + Pending In, delivered', st('to'), 'subscribe', st('to', { pendingIn: true }), true, undefined, undefined],
      ['From + subscribe: auto-reply subscribed, not delivered', st('from'), 'subscribe', st('from'), false, 'subscribed', undefined],
      ['Both + subscribe: auto-reply subscribed, not delivered', st('both'), 'subscribe', st('both'), false, 'subscribed', undefined],
      ['pre-approved None + subscribe → From at once (§3.4)', st('none', { approved: true }), 'subscribe', st('from'), false, 'subscribed', 'available'],
      ['pre-approved To + subscribe → Both at once', st('to', { approved: true }), 'subscribe', st('both'), false, 'subscribed', 'available'],
      // A.3.2 subscribed
      ['None + Pending Out + subscribed → To, delivered', st('none', { ask: true }), 'subscribed', st('to'), true, undefined, undefined],
      ['From + Pending Out + subscribed → Both, delivered', st('from', { ask: true }), 'subscribed', st('both'), true, undefined, undefined],
      ['None + subscribed (not asked): ignored', st('none'), 'subscribed', st('none'), false, undefined, undefined],
      ['To + subscribed: ignored', st('to'), 'subscribed', st('to'), false, undefined, undefined],
      // A.3.3 unsubscribe
      ['From + unsubscribe → None, delivered, unavailable sent', st('from'), 'unsubscribe', st('none'), true, undefined, 'unavailable'],
      ['Both + unsubscribe → To, delivered, unavailable sent', st('both'), 'unsubscribe', st('to'), true, undefined, 'unavailable'],
      ['None + Pending In + unsubscribe → None (request withdrawn), delivered', st('none', { pendingIn: true }), 'unsubscribe', st('none'), true, undefined, undefined],
      ['None + unsubscribe: ignored', st('none'), 'unsubscribe', st('none'), false, undefined, undefined],
      // A.3.4 unsubscribed
      ['To + unsubscribed → None, delivered', st('to'), 'unsubscribed', st('none'), true, undefined, undefined],
      ['Both + unsubscribed → From, delivered', st('both'), 'unsubscribed', st('from'), true, undefined, undefined],
      ['None + Pending Out + unsubscribed → None (denied), delivered', st('none', { ask: true }), 'unsubscribed', st('none'), true, undefined, undefined],
      ['From + unsubscribed: ignored', st('from'), 'unsubscribed', st('from'), false, undefined, undefined],
    ];
    for (const [name, state, type, expected, pass, autoReply, presence] of cases) {
      it(name, () => {
        const o = inbound(state, type);
        expect(after(state, o)).to.deep.equal(expected);
        expect(o.pass).to.equal(pass);
        expect(o.autoReply).to.equal(autoReply);
        expect(o.presence).to.equal(presence);
      });
    }
  });
});
