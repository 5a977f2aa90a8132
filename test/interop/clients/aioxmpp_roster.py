#!/usr/bin/python3
"""aioxmpp (python3-aioxmpp) as a roster and presence peer, driven step by step by
test/interop/roster-presence.test.ts through stdin commands (see peer_io.py).

It is an aioxmpp.PresenceManagedClient: setting an available presence connects and sends it as
initial presence (aioxmpp writes it before the RosterClient's roster get, which carries the
version of the last push when the server offers versioning), setting unavailable presence stops
the client. Subscriptions go through aioxmpp.RosterClient
(set_entry, subscribe, approve, the on_subscribe signal) and presence of contacts through
aioxmpp.PresenceClient. What the library reports is printed as events:

  session, roster (initial roster received), online (initial presence sent), entry (a roster entry
  added or its subscription changed), subscribe, subscribed, unsubscribed, available / changed /
  unavailable (PresenceClient), stopped, log (warnings aioxmpp logs, e.g. stanzas it could not
  parse), closed (at the end).

With --auto-approve, a subscription request is approved at once and answered with a request of
its own unless the contact's presence is already subscribed to: what an application built on
aioxmpp would do in on_subscribe.

Commands: add {jid, name, groups}, subscribe {jid}, approve {jid}, presence {show, status}, roster,
ping, disconnect, connect {show, status}. Exit status: 0 after a clean end of input, 1 when the client failed, 2 on
the time limit.
"""
import argparse
import asyncio
import logging
import sys

import aioxmpp
import aioxmpp.connector
import aioxmpp.ping
import aioxmpp.presence
import aioxmpp.roster
import aioxmpp.security_layer

from peer_io import emit, serve_commands


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--jid', required=True, help='full JID to log in as (the resource is requested)')
    p.add_argument('--password', required=True)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True, help='a STARTTLS port')
    p.add_argument('--ca', required=True, help='PEM file of the CA to trust (the test certificate)')
    p.add_argument('--auto-approve', action='store_true', help='approve subscription requests and subscribe back')
    p.add_argument('--show', help='<show/> of the initial presence')
    p.add_argument('--status', help='<status/> of the initial presence')
    p.add_argument('--timeout', type=float, default=40.0, help='seconds for the whole run')
    p.add_argument('--debug', action='store_true')
    return p.parse_args()


class EmitWarnings(logging.Handler):
    """aioxmpp reports what it could not parse or did not expect through its log."""

    def emit(self, record):
        if record.name.startswith(('aioxmpp', 'aiosasl', 'aioopenssl')):
            emit('log', level=record.levelname, logger=record.name, message=record.getMessage())


def presence_fields(st):
    return {'from': str(st.from_), 'to': str(st.to), 'type': st.type_.value or 'available',
            'show': st.show.value, 'status': st.status.any() if st.status else None}


def entry_fields(item):
    return {'jid': str(item.jid), 'subscription': item.subscription, 'ask': item.ask, 'approved': item.approved,
            'name': item.name, 'groups': sorted(item.groups)}


def state(show):
    return aioxmpp.PresenceState(True, aioxmpp.PresenceShow(show))


class Peer:
    def __init__(self, args):
        self.args = args
        self.fatal = asyncio.get_running_loop().create_future()
        ca = args.ca

        def ssl_context():
            ctx = aioxmpp.security_layer.default_ssl_context()
            ctx.load_verify_locations(ca)
            return ctx

        self.jid = aioxmpp.JID.fromstr(args.jid)
        client = self.client = aioxmpp.PresenceManagedClient(
            self.jid,
            aioxmpp.make_security_layer(args.password, ssl_context_factory=ssl_context),
            override_peer=[(args.host, args.port, aioxmpp.connector.STARTTLSConnector())],
        )
        roster = self.roster_client = client.summon(aioxmpp.RosterClient)
        presence = self.presence_client = client.summon(aioxmpp.PresenceClient)

        client.on_stream_established.connect(lambda: emit('session', jid=str(client.local_jid)))
        client.on_presence_sent.connect(lambda: emit('online'))
        client.on_stopped.connect(lambda: emit('stopped'))
        client.on_failure.connect(self.on_failure)
        roster.on_initial_roster_received.connect(
            lambda: emit('roster', ver=roster.version, roster={str(j): entry_fields(i) for j, i in roster.items.items()}))
        roster.on_entry_added.connect(lambda item: emit('entry', change='added', **entry_fields(item)))
        roster.on_entry_subscription_state_changed.connect(lambda item: emit('entry', change='subscription', **entry_fields(item)))
        roster.on_subscribe.connect(self.on_subscribe)
        roster.on_subscribed.connect(lambda st: emit('subscribed', **presence_fields(st)))
        roster.on_unsubscribed.connect(lambda st: emit('unsubscribed', **presence_fields(st)))
        presence.on_available.connect(self.contact('available'))
        presence.on_changed.connect(self.contact('changed'))
        presence.on_unavailable.connect(self.contact('unavailable'))

    def contact(self, event):
        def handler(full_jid, st):
            if full_jid.bare() != self.jid.bare():  # one's own resources are not contacts
                emit(event, **presence_fields(st))
        return handler

    def on_subscribe(self, st):
        emit('subscribe', **presence_fields(st))
        if not self.args.auto_approve:
            return
        contact = st.from_.bare()
        self.roster_client.approve(contact)
        item = self.roster_client.items.get(contact)
        if item is None or item.subscription in ('none', 'from'):
            self.roster_client.subscribe(contact)

    def on_failure(self, err):
        emit('failure', type=type(err).__name__, text=str(err))
        if not self.fatal.done():
            self.fatal.set_result(1)

    def connect(self, show=None, status=None):
        sent = self.client.on_presence_sent.future()
        self.client.set_presence(state(show), status or {})
        return sent

    # ---- commands

    async def add(self, jid, name=None, groups=()):
        await self.roster_client.set_entry(aioxmpp.JID.fromstr(jid), name=name, add_to_groups=frozenset(groups))

    async def subscribe(self, jid):
        self.roster_client.subscribe(aioxmpp.JID.fromstr(jid))

    async def approve(self, jid):
        self.roster_client.approve(aioxmpp.JID.fromstr(jid))

    async def presence(self, show=None, status=None):
        self.client.set_presence(state(show), status or {})

    async def roster(self):
        return {'roster': {str(j): dict(entry_fields(i), resources={
            r: presence_fields(st) for r, st in self.presence_client.get_peer_resources(j).items()})
            for j, i in self.roster_client.items.items()}}

    async def ping(self):
        """A round trip to the server: whatever it sent before has arrived when this returns."""
        await aioxmpp.ping.ping(self.client, self.jid.replace(localpart=None, resource=None))

    async def disconnect(self):
        stopped = self.client.on_stopped.future()
        # PresenceManagedClient stops the client (the unavailable presence it queues does not get
        # out before the stream closes).
        self.client.presence = aioxmpp.PresenceState(False)
        await asyncio.wait_for(stopped, 10)

    async def reconnect(self, show=None, status=None):
        await asyncio.wait_for(self.connect(show, status), 15)

    def handlers(self):
        return {'add': self.add, 'subscribe': self.subscribe, 'approve': self.approve, 'presence': self.presence,
                'roster': self.roster, 'ping': self.ping, 'disconnect': self.disconnect, 'connect': self.reconnect}


async def run(args):
    peer = Peer(args)
    online = peer.connect(args.show, args.status)
    commands = asyncio.ensure_future(serve_commands(peer.handlers()))
    done, _ = await asyncio.wait([commands, peer.fatal], timeout=args.timeout, return_when=asyncio.FIRST_COMPLETED)
    if not done:
        emit('timeout', seconds=args.timeout)
        peer.client.stop()
        return 2
    if peer.fatal in done:
        commands.cancel()
        return 1
    commands.result()
    online.cancel()
    if peer.client.running:
        await peer.disconnect()
        emit('closed')
    return 0


def main():
    args = parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr,
                        format='%(levelname)s %(name)s %(message)s')
    logging.getLogger().addHandler(EmitWarnings(level=logging.WARNING))
    emit('start', aioxmpp=aioxmpp.__version__)
    sys.exit(asyncio.run(run(args)))


if __name__ == '__main__':
    main()
