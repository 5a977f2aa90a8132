#!/usr/bin/python3
"""aioxmpp (python3-aioxmpp) as a Chorus test peer, driven by test/interop/aioxmpp.test.ts.

aioxmpp parses every stanza into strict models, so besides logging in it notices replies that do
not fit their schema. Logs in over STARTTLS, sends initial presence, asks the server for
disco#info and a ping, optionally sends one chat message and waits for a reply.

Everything the test asserts on is printed to stdout as one JSON object per line ({"event": ...});
warnings and errors aioxmpp logs (how it reports stanzas it could not parse) are printed as
"log" events too. Exit status: 0 when every step succeeded, 1 on a failure, 2 on the time limit.
"""
import argparse
import asyncio
import json
import logging
import sys

import aioxmpp
import aioxmpp.connector
import aioxmpp.disco
import aioxmpp.dispatcher
import aioxmpp.errors
import aioxmpp.ping
import aioxmpp.security_layer


def emit(event, **fields):
    print(json.dumps({'event': event, **fields}), flush=True)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--jid', required=True, help='full JID to log in as (the resource is requested)')
    p.add_argument('--password', required=True)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--ca', required=True, help='PEM file of the CA to trust (the test certificate)')
    p.add_argument('--to', help='send one chat message to this JID after the checks')
    p.add_argument('--body', default='hello')
    p.add_argument('--expect-reply', action='store_true', help='wait for a chat message back from --to')
    p.add_argument('--timeout', type=float, default=20.0, help='seconds for the whole run')
    p.add_argument('--debug', action='store_true')
    return p.parse_args()


class EmitWarnings(logging.Handler):
    """aioxmpp reports what it could not parse or did not expect through its log."""

    def emit(self, record):
        if record.name.startswith(('aioxmpp', 'aiosasl', 'aioopenssl')):
            emit('log', level=record.levelname, logger=record.name, message=record.getMessage())


def observe_sasl():
    """Print the mechanism of every SASL attempt (aioxmpp does not expose it otherwise)."""
    provider = aioxmpp.security_layer.SASLProvider
    original = provider._execute

    async def _execute(self, intf, mechanism, token):
        name = token[0] if isinstance(token, tuple) else token
        emit('sasl-attempt', mechanism=str(name))
        ok = await original(self, intf, mechanism, token)
        # aiosasl checks the server's SCRAM signature itself and raises when it is wrong.
        emit('sasl-success' if ok else 'sasl-unsupported', mechanism=str(name))
        return ok

    provider._execute = _execute


def condition_name(error):
    condition = getattr(error, 'condition', None)
    value = getattr(condition, 'value', condition)
    return value[1] if isinstance(value, tuple) else str(value)


async def run(args):
    ca = args.ca

    def ssl_context():
        # The documented way to trust one more CA: the default context, plus our CA file.
        ctx = aioxmpp.security_layer.default_ssl_context()
        ctx.load_verify_locations(ca)
        return ctx

    jid = aioxmpp.JID.fromstr(args.jid)
    client = aioxmpp.PresenceManagedClient(
        jid,
        aioxmpp.make_security_layer(args.password, ssl_context_factory=ssl_context),
        override_peer=[(args.host, args.port, aioxmpp.connector.STARTTLSConnector())],
    )
    peer = aioxmpp.JID.fromstr(args.to) if args.to else None
    reply = asyncio.get_running_loop().create_future()

    def on_message(msg):
        fields = {'from': str(msg.from_), 'to': str(msg.to), 'type': msg.type_.value, 'id': msg.id_}
        if msg.type_ == aioxmpp.MessageType.ERROR:
            emit('message-error', condition=condition_name(msg.error), **fields)
            if not reply.done():
                reply.set_result(False)
            return
        body = msg.body.any() if msg.body else None
        emit('message', body=body, **fields)
        if peer is not None and msg.from_.bare() == peer.bare() and body and not reply.done():
            reply.set_result(True)

    dispatcher = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
    dispatcher.register_callback(None, None, on_message)

    client.presence = aioxmpp.PresenceState(True)
    async with client.connected() as stream:
        emit('session', jid=str(client.local_jid))
        disco = client.summon(aioxmpp.DiscoClient)
        info = await disco.query_info(jid.replace(localpart=None, resource=None), require_fresh=True)
        emit('disco-info', features=sorted(info.features),
             identities=[{'category': i.category, 'type': i.type_, 'name': i.name} for i in info.identities])
        await aioxmpp.ping.ping(client, jid.replace(localpart=None, resource=None))
        emit('ping', ok=True)
        if peer is not None:
            msg = aioxmpp.Message(to=peer, type_=aioxmpp.MessageType.CHAT)
            msg.id_ = 'aioxmpp-1'
            msg.body[None] = args.body
            await stream.send(msg)
            emit('sent', to=str(peer), id='aioxmpp-1', body=args.body)
            if args.expect_reply and not await reply:
                return 1
    emit('closed')
    return 0


async def bounded(args):
    try:
        return await asyncio.wait_for(run(args), args.timeout)
    except asyncio.TimeoutError:
        emit('timeout', seconds=args.timeout)
        return 2
    except aioxmpp.errors.XMPPError as err:
        emit('xmpp-error', condition=condition_name(err), text=str(err))
        return 1
    except Exception as err:  # login failures (aiosasl.AuthenticationFailure, TLS errors, stream errors)
        emit('failure', type=type(err).__name__, text=str(err))
        return 1


def main():
    args = parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr,
                        format='%(levelname)s %(name)s %(message)s')
    logging.getLogger().addHandler(EmitWarnings(level=logging.WARNING))
    emit('start', aioxmpp=aioxmpp.__version__)
    observe_sasl()
    sys.exit(asyncio.run(bounded(args)))


if __name__ == '__main__':
    main()
