#!/usr/bin/python3
"""slixmpp (python3-slixmpp) as a Chorus test peer, driven by test/interop/slixmpp.test.ts.

Logs in with slixmpp's defaults (channel binding on, as shipped: no SASL option is changed),
sends initial presence, asks the server for disco#info and a ping, optionally sends one chat
message and waits for a reply, then closes the stream. Everything the test asserts on is
printed to stdout as one JSON object per line ({"event": ...}); slixmpp's own log goes to stderr.

Exit status: 0 when every step succeeded (including the reply, when one is expected), 1 when a
step failed (authentication, stream error, IQ error, disconnection), 2 on the time limit.
"""
import argparse
import asyncio
import base64
import json
import logging
import sys

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout


def emit(event, **fields):
    print(json.dumps({'event': event, **fields}), flush=True)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--jid', required=True, help='full JID to log in as (the resource is requested)')
    p.add_argument('--password', required=True)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--ca', required=True, help='PEM file of the CA to trust (the test certificate)')
    p.add_argument('--direct-tls', action='store_true', help='TLS from the first byte (XEP-0368) instead of STARTTLS')
    p.add_argument('--to', help='send one chat message to this JID after the checks')
    p.add_argument('--body', default='hello')
    p.add_argument('--expect-reply', action='store_true', help='wait for a chat message back from --to')
    p.add_argument('--timeout', type=float, default=20.0, help='seconds for the whole run')
    p.add_argument('--debug', action='store_true')
    return p.parse_args()


def observe_auth(xmpp):
    """Print every <auth/> as it leaves: the mechanism and, for SCRAM, the GS2 header (RFC 5802 §7),
    i.e. which channel binding the client asked for."""
    from slixmpp.features.feature_mechanisms.stanza import Auth

    def out(stanza):
        if isinstance(stanza, Auth):
            fields = {'mechanism': stanza['mechanism']}
            if stanza['mechanism'].startswith('SCRAM-') and stanza.xml.text:
                flag, authzid = base64.b64decode(stanza.xml.text).split(b',', 2)[:2]
                fields['gs2_header'] = (flag + b',' + authzid + b',').decode()
            emit('sasl-attempt', **fields)
        return stanza

    xmpp.add_filter('out', out)


async def run(args):
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def finish(status):
        if not done.done():
            done.set_result(status)

    xmpp = slixmpp.ClientXMPP(args.jid, args.password)
    xmpp.ca_certs = args.ca
    xmpp.register_plugin('xep_0030')
    xmpp.register_plugin('xep_0199')
    observe_auth(xmpp)
    peer = slixmpp.JID(args.to) if args.to else None

    def on_auth_success(_):
        mech = xmpp['feature_mechanisms'].mech
        emit('sasl-success', mechanism=mech.name, mutual_auth=bool(getattr(mech, '_mutual_auth', False)),
             offered=sorted(xmpp['feature_mechanisms'].mech_list))

    def on_failed_auth(failure):
        emit('sasl-failure', mechanism=xmpp['feature_mechanisms'].mech.name,
             condition=failure['condition'], text=failure['text'])

    def on_stream_error(error):
        emit('stream-error', condition=error['condition'], text=error['text'])
        finish(1)

    def on_message(msg):
        if msg['type'] == 'error':
            emit('message-error', **{'from': str(msg['from']), 'condition': msg['error']['condition']})
            finish(1)
            return
        emit('message', **{'from': str(msg['from']), 'to': str(msg['to']), 'type': msg['type'], 'id': msg['id'],
                           'body': msg['body']})
        if args.expect_reply and peer is not None and msg['from'].bare == peer.bare and msg['body']:
            finish(0)

    async def on_session_start(_):
        try:
            emit('session', jid=str(xmpp.boundjid))
            emit('tls', version=xmpp.socket.version(), cipher=xmpp.socket.cipher()[0])
            xmpp.send_presence()
            info = await xmpp['xep_0030'].get_info(jid=xmpp.boundjid.domain, local=False, timeout=10)
            disco = info['disco_info']
            emit('disco-info', type=info['type'], features=list(disco['features']),
                 identities=[{'category': c, 'type': t, 'name': n} for c, t, _lang, n in disco['identities']])
            # XEP-0199: send_ping, not ping(): ping() counts an error from one's own server as a pong.
            pong = await xmpp['xep_0199'].send_ping(xmpp.boundjid.domain, timeout=10)
            emit('ping', type=pong['type'], **{'from': str(pong['from'])})
            if peer is not None:
                msg = xmpp.make_message(mto=peer, mbody=args.body, mtype='chat')
                msg['id'] = 'slixmpp-1'
                msg.send()
                emit('sent', to=str(peer), id='slixmpp-1', body=args.body)
            if not args.expect_reply:
                finish(0)
        except IqError as err:
            emit('iq-error', condition=err.iq['error']['condition'], text=err.iq['error']['text'])
            finish(1)
        except IqTimeout:
            emit('iq-timeout')
            finish(1)

    xmpp.add_event_handler('auth_success', on_auth_success)
    xmpp.add_event_handler('failed_auth', on_failed_auth)
    xmpp.add_event_handler('failed_all_auth', lambda _: (emit('auth-exhausted'), finish(1)))
    xmpp.add_event_handler('stream_error', on_stream_error)
    xmpp.add_event_handler('ssl_invalid_chain', lambda err: (emit('tls-invalid', error=str(err)), finish(1)))
    xmpp.add_event_handler('connection_failed', lambda err: (emit('connection-failed', error=str(err)), finish(1)))
    xmpp.add_event_handler('disconnected', lambda _: finish(1))
    xmpp.add_event_handler('session_start', on_session_start)
    xmpp.add_event_handler('message', on_message)

    xmpp.connect((args.host, args.port), use_ssl=args.direct_tls, force_starttls=not args.direct_tls)
    try:
        status = await asyncio.wait_for(done, args.timeout)
    except asyncio.TimeoutError:
        emit('timeout', seconds=args.timeout)
        status = 2
    if status == 0:
        # Close the stream (</stream:stream>); clean when the server closes its side in time (RFC 6120 §4.4).
        await xmpp.disconnect(wait=5.0)
        emit('closed', server_closed_stream=xmpp.disconnect_reason == 'End of stream')
    else:
        xmpp.abort()
    return status


def main():
    args = parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr,
                        format='%(levelname)s %(name)s %(message)s')
    emit('start', slixmpp=slixmpp.__version__)
    sys.exit(asyncio.run(run(args)))


if __name__ == '__main__':
    main()
