#!/usr/bin/python3
"""slixmpp (python3-slixmpp) as a roster and presence peer, driven step by step by
test/interop/roster-presence.test.ts through stdin commands (see peer_io.py).

It logs in over STARTTLS like a desktop client: fetches the roster (with roster versioning when
the server offers it), then sends initial presence. Subscriptions go through slixmpp's own roster
API: RosterItem.subscribe() and authorize(), and the roster's auto_authorize/auto_subscribe
policy for incoming requests. What the library reports is printed as events:

  session, roster (after each roster fetch), online (initial presence sent), roster-push,
  presence (every presence stanza), subscription-request, subscription-authorized,
  got-online / changed-status / got-offline (slixmpp's own presence tracking), sent (a
  subscription stanza leaving), disconnected,
  closed (at the end).

Commands: add {jid, name, groups}, subscribe {jid}, authorize {jid}, presence {show, status},
roster, ping, disconnect, connect. Exit status: 0 after a clean end of input, 1 when logging in failed
or the stream broke with an error, 2 on the time limit.
"""
import argparse
import asyncio
import logging
import sys

import slixmpp

from peer_io import emit, serve_commands


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--jid', required=True, help='full JID to log in as (the resource is requested)')
    p.add_argument('--password', required=True)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True, help='a STARTTLS port')
    p.add_argument('--ca', required=True, help='PEM file of the CA to trust (the test certificate)')
    p.add_argument('--auto-authorize', choices=['yes', 'no', 'manual'], default='yes',
                   help="the roster's auto_authorize: approve (True), deny (False) or leave to authorize (None)")
    p.add_argument('--auto-subscribe', choices=['yes', 'no'], default='yes',
                   help='after approving a request, ask for the contact\'s presence too (slixmpp\'s default)')
    p.add_argument('--show', help='<show/> of the initial presence')
    p.add_argument('--status', help='<status/> of the initial presence')
    p.add_argument('--timeout', type=float, default=40.0, help='seconds for the whole run')
    p.add_argument('--debug', action='store_true')
    return p.parse_args()


def presence_fields(p):
    return {'from': str(p['from']), 'to': str(p['to']), 'type': p.xml.get('type', 'available'),
            'show': p['show'] or None, 'status': p['status'] or None, 'priority': p['priority']}


class Peer:
    def __init__(self, args):
        self.args = args
        self.fatal = asyncio.get_running_loop().create_future()
        self.ready = None  # a future per login, set once initial presence is sent
        self.connected = False
        xmpp = self.xmpp = slixmpp.ClientXMPP(args.jid, args.password)
        xmpp.ca_certs = args.ca
        xmpp.register_plugin('xep_0199')
        xmpp.auto_authorize = {'yes': True, 'no': False, 'manual': None}[args.auto_authorize]
        xmpp.auto_subscribe = args.auto_subscribe == 'yes'

        xmpp.add_event_handler('session_start', self.on_session_start)
        xmpp.add_event_handler('failed_all_auth', lambda _: self.fail('auth-failed'))
        xmpp.add_event_handler('stream_error', lambda e: self.fail('stream-error', condition=e['condition'], text=e['text']))
        xmpp.add_event_handler('ssl_invalid_chain', lambda e: self.fail('tls-invalid', error=str(e)))
        xmpp.add_event_handler('connection_failed', lambda e: self.fail('connection-failed', error=str(e)))
        xmpp.add_event_handler('disconnected', self.on_disconnected)
        xmpp.add_event_handler('roster_update', self.on_roster_update)
        xmpp.add_event_handler('presence', lambda p: emit('presence', **presence_fields(p)))
        xmpp.add_event_handler('roster_subscription_request',
                               lambda p: emit('subscription-request', **{'from': str(p['from']), 'status': p['status'] or None}))
        xmpp.add_event_handler('roster_subscription_authorized',
                               lambda p: emit('subscription-authorized', **{'from': str(p['from'])}))
        for name in ('got_online', 'changed_status', 'got_offline'):
            xmpp.add_event_handler(name, self.tracked(name.replace('_', '-')))
        xmpp.add_filter('out', self.sent)

    def sent(self, stanza):
        """Subscription stanzas as they leave, including those slixmpp's roster sends on its own."""
        if isinstance(stanza, slixmpp.Presence) and stanza.xml.get('type') in ('subscribe', 'subscribed', 'unsubscribe', 'unsubscribed'):
            emit('sent', type=stanza.xml.get('type'), to=str(stanza['to']))
        return stanza

    def tracked(self, event):
        def handler(p):
            if p['from'].bare != self.xmpp.boundjid.bare:  # one's own resources are not contacts
                emit(event, **presence_fields(p))
        return handler

    def fail(self, event, **fields):
        emit(event, **fields)
        if not self.fatal.done():
            self.fatal.set_result(1)

    def connect(self):
        self.ready = asyncio.get_running_loop().create_future()
        self.xmpp.connect((self.args.host, self.args.port), force_starttls=True)
        return self.ready

    async def on_session_start(self, _):
        xmpp = self.xmpp
        self.connected = True
        emit('session', jid=str(xmpp.boundjid))
        # RFC 6121 §2.6: with versioning, slixmpp sends the version it holds; an unchanged roster
        # comes back as an empty result and slixmpp keeps the items it has.
        result = await xmpp.get_roster()
        emit('roster', ver=xmpp.client_roster.version or None, items_in_result=len(result['roster']['items']),
             roster=self.roster_state())
        xmpp.send_presence(pshow=self.args.show, pstatus=self.args.status)
        emit('online')
        if not self.ready.done():
            self.ready.set_result(None)

    def on_disconnected(self, reason):
        self.connected = False
        emit('disconnected', reason=str(reason) if reason else None)

    def on_roster_update(self, iq):
        if iq['type'] != 'set':
            return  # the answer to get_roster, reported as 'roster'
        items = {str(jid): {'subscription': item['subscription'], 'ask': item['ask'] or None, 'name': item['name'] or None,
                            'groups': sorted(item['groups'])} for jid, item in iq['roster']['items'].items()}
        emit('roster-push', ver=iq['roster']['ver'] or None, items=items)

    def roster_state(self):
        """slixmpp's own view of the roster: subscription, pending flags and the resources it saw online."""
        roster = self.xmpp.client_roster
        own = self.xmpp.boundjid.bare
        return {jid: {'subscription': roster[jid]['subscription'], 'pending_out': roster[jid]['pending_out'],
                      'pending_in': roster[jid]['pending_in'], 'name': roster[jid]['name'] or None,
                      'groups': sorted(roster[jid]['groups']),
                      'resources': {res: {'show': d.get('show') or None, 'status': d.get('status') or None}
                                    for res, d in roster[jid].resources.items()}}
                for jid in roster if jid != own}

    # ---- commands

    async def add(self, jid, name=None, groups=()):
        result = await self.xmpp.update_roster(slixmpp.JID(jid), name=name, groups=list(groups))
        return {'type': result['type']}

    async def subscribe(self, jid):
        self.xmpp.client_roster[jid].subscribe()

    async def authorize(self, jid):
        self.xmpp.client_roster[jid].authorize()

    async def presence(self, show=None, status=None):
        self.xmpp.send_presence(pshow=show, pstatus=status)

    async def roster(self):
        return {'roster': self.roster_state()}

    async def ping(self):
        """A round trip to the server: whatever it sent before has arrived when this returns."""
        await self.xmpp['xep_0199'].send_ping(self.xmpp.boundjid.domain, timeout=10)

    async def disconnect(self):
        await self.xmpp.disconnect(wait=5.0)
        return {'server_closed_stream': self.xmpp.disconnect_reason == 'End of stream'}

    async def reconnect(self):
        await asyncio.wait_for(self.connect(), 15)

    def handlers(self):
        return {'add': self.add, 'subscribe': self.subscribe, 'authorize': self.authorize, 'presence': self.presence,
                'roster': self.roster, 'ping': self.ping, 'disconnect': self.disconnect, 'connect': self.reconnect}


async def run(args, make_peer=None):
    peer = (make_peer or Peer)(args)
    peer.connect()
    commands = asyncio.ensure_future(serve_commands(peer.handlers()))
    done, _ = await asyncio.wait([commands, peer.fatal], timeout=args.timeout, return_when=asyncio.FIRST_COMPLETED)
    if not done:
        emit('timeout', seconds=args.timeout)
        peer.xmpp.abort()
        return 2
    if peer.fatal in done:
        commands.cancel()
        peer.xmpp.abort()
        return 1
    commands.result()
    if peer.connected:
        await peer.xmpp.disconnect(wait=5.0)
        emit('closed', server_closed_stream=peer.xmpp.disconnect_reason == 'End of stream')
    return 0


def main(make_peer=None):
    """Run a peer: this script's, or a subclass's (slixmpp_story.py)."""
    args = parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr,
                        format='%(levelname)s %(name)s %(message)s')
    emit('start', slixmpp=slixmpp.__version__)
    sys.exit(asyncio.run(run(args, make_peer)))


if __name__ == '__main__':
    main()
