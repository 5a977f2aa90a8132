// The presence subscription state machine of RFC 6121 §3 and Appendix A, as pure functions:
// given one side's state and a subscription stanza, what the state becomes and what the
// server must do. subscriptions.ts carries the actions out.
import type { Subscription } from './roster-store.ts';

export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

/** One account's view of one contact. */
export interface SubscriptionState {
  subscription: Subscription;
  /** Pending out: the account asked for the contact's presence (roster `ask='subscribe'`). */
  ask: boolean;
  /** Pending in: the contact asked for the account's presence and has no answer yet. */
  pendingIn: boolean;
  /** RFC 6121 §3.4: the account pre-approved a request the contact has not sent yet. */
  approved: boolean;
}

export const NO_RELATION: SubscriptionState = { subscription: 'none', ask: false, pendingIn: false, approved: false };

export interface Outcome {
  /** The new state, or null when it does not change. */
  next: SubscriptionState | null;
  /** Outbound: route the stanza to the contact. Inbound: deliver it to the account's resources. */
  pass: boolean;
  /** Inbound only: answer the contact with presence of type 'subscribed' on the account's behalf. */
  autoReply?: 'subscribed';
  /** Send the account's current presence ('available') or unavailable presence to the contact. */
  presence?: 'available' | 'unavailable';
}

/** The account receives the contact's presence. */
export const hasTo = (s: Subscription): boolean => s === 'to' || s === 'both';
/** The contact receives the account's presence. */
export const hasFrom = (s: Subscription): boolean => s === 'from' || s === 'both';
const withTo = (s: Subscription, on: boolean): Subscription =>
  on ? (hasFrom(s) ? 'both' : 'to') : hasFrom(s) ? 'from' : 'none';
const withFrom = (s: Subscription, on: boolean): Subscription =>
  on ? (hasTo(s) ? 'both' : 'from') : hasTo(s) ? 'to' : 'none';

function changed(before: SubscriptionState, after: SubscriptionState): SubscriptionState | null {
  return before.subscription === after.subscription && before.ask === after.ask && before.pendingIn === after.pendingIn && before.approved === after.approved
    ? null
    : after;
}

/** A subscription stanza the account sends to the contact (RFC 6121 §3.1.2, §3.1.5, §3.2.2, §3.3.2, §3.4). */
export function outbound(state: SubscriptionState, type: SubscriptionType): Outcome {
  switch (type) {
    case 'subscribe':
      // §3.1.2: pending out unless already subscribed; the request is routed either way (the
      // contact's server answers a request it has already approved, §3.1.3).
      return { next: hasTo(state.subscription) ? null : changed(state, { ...state, ask: true }), pass: true };
    case 'unsubscribe':
      // §3.3.2: the account no longer wants the contact's presence.
      return { next: changed(state, { ...state, subscription: withTo(state.subscription, false), ask: false }), pass: true };
    case 'subscribed':
      if (state.pendingIn) {
        // §3.1.5: approving a pending request; the contact then gets the account's presence.
        return {
          next: { ...state, subscription: withFrom(state.subscription, true), pendingIn: false, approved: false },
          pass: true,
          presence: 'available',
        };
      }
      // §3.4.2: no request yet: a pre-approval, which is noted and not routed.
      if (!hasFrom(state.subscription)) return { next: changed(state, { ...state, approved: true }), pass: false };
      // Appendix A.2.1: already subscribed: nothing changes and nothing is sent.
      return { next: null, pass: false };
    case 'unsubscribed': {
      // §3.2.2 (cancelling the contact's subscription) and §3.1.5 (denying a request); also ends a pre-approval.
      const wasFrom = hasFrom(state.subscription);
      return {
        next: changed(state, { ...state, subscription: withFrom(state.subscription, false), pendingIn: false, approved: false }),
        pass: true,
        ...(wasFrom ? { presence: 'unavailable' as const } : {}),
      };
    }
  }
}

/** A subscription stanza the account receives from the contact (RFC 6121 §3.1.3, §3.1.6, §3.2.3, §3.3.3). */
export function inbound(state: SubscriptionState, type: SubscriptionType): Outcome {
  switch (type) {
    case 'subscribe':
      // §3.1.3: an existing subscription is confirmed again without bothering the account.
      if (hasFrom(state.subscription)) return { next: null, pass: false, autoReply: 'subscribed' };
      // §3.4.1: a pre-approved request completes at once.
      if (state.approved) {
        return {
          next: { ...state, subscription: withFrom(state.subscription, true), approved: false, pendingIn: false },
          pass: false,
          autoReply: 'subscribed',
          presence: 'available',
        };
      }
      // §3.1.3: pending in; delivered (again, as clients may have missed it).
      return { next: changed(state, { ...state, pendingIn: true }), pass: true };
    case 'subscribed':
      // §3.1.6: only an answer to the account's own request counts; anything else is ignored.
      if (!state.ask || hasTo(state.subscription)) return { next: null, pass: false };
      return { next: { ...state, subscription: withTo(state.subscription, true), ask: false }, pass: true };
    case 'unsubscribe':
      // §3.3.3: the contact stops (or retracts a request for) its subscription to the account,
      // and gets the account's unavailable presence.
      if (!hasFrom(state.subscription) && !state.pendingIn) return { next: null, pass: false };
      return {
        next: { ...state, subscription: withFrom(state.subscription, false), pendingIn: false, approved: false },
        pass: true,
        ...(hasFrom(state.subscription) ? { presence: 'unavailable' as const } : {}),
      };
    case 'unsubscribed':
      // §3.2.3: the contact cancels or denies the account's subscription.
      if (!hasTo(state.subscription) && !state.ask) return { next: null, pass: false };
      return { next: { ...state, subscription: withTo(state.subscription, false), ask: false }, pass: true };
  }
}

export function isSubscriptionType(type: string): type is SubscriptionType {
  return type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed';
}
