// XEP-0199 XMPP Ping: the server answers pings addressed to it, and to an account on the
// account's behalf (a ping without 'to'). Server-to-client pings of idle streams are sent by
// the c2s layer (ClientSession.tick).
import type { Module } from '../../server/module.ts';

export const NS_PING = 'urn:xmpp:ping';

export const ping: Module = {
  name: 'ping',
  specs: ['XEP-0199 v2.0.1 (urn:xmpp:ping)'],
  setup(ctx) {
    ctx.iq.handle('get', NS_PING, 'host', () => null);
    ctx.iq.handle('get', NS_PING, 'account', () => null);
  },
};
