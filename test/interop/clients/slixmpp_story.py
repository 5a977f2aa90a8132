#!/usr/bin/python3
"""slixmpp (python3-slixmpp) as user A of the whole IM story, driven step by step by
test/interop/slixmpp-story.test.ts through stdin commands (see peer_io.py).

Everything slixmpp_roster.py does (roster, subscriptions, presence; same options), plus what a
desktop client built on slixmpp does with these plugins:

  xep_0203  delayed delivery: the stamp of messages kept while offline (XEP-0160)
  xep_0054  vcard-temp: publish_vcard, get_vcard
  xep_0153  vCard-based avatars: set_avatar, and the photo hash in outgoing presence
  xep_0191  blocking command: get_blocked, block, unblock, and the blocklist pushes

Events, besides slixmpp_roster.py's: message (a message with a body, with its <delay/> if any),
message-error (an error bounce: condition, type, whether <blocked xmlns='urn:xmpp:blocking:errors'/>
is in it), blocked / unblocked (pushes), avatar-update (XEP-0153 hash in a contact's presence).

Commands, besides slixmpp_roster.py's: message {to, body}, publish-vcard {fn, nickname, email},
set-avatar {data (base64), type}, get-vcard {jid}, own-hash, get-blocked, block {jid},
unblock {jid}.
"""
import base64
import hashlib

import slixmpp

from peer_io import emit
from slixmpp_roster import Peer, main

NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors'


def vcard_fields(vcard):
    """The fields of a vcard-temp element this story uses, as slixmpp's stanza classes read them."""
    photos = [{'type': p['TYPE'] or None, 'sha1': hashlib.sha1(p['BINVAL']).hexdigest() if p['BINVAL'] else None,
               'bytes': len(p['BINVAL'])} for p in vcard['photos']]
    return {
        'fn': vcard['FN'] or None,
        'nicknames': [n for nick in vcard['nicknames'] for n in (nick['NICKNAME'] or [])],
        'emails': [e['USERID'] for e in vcard['emails']],
        'orgs': [o['ORGNAME'] for o in vcard['organizations']],
        'tels': [t['NUMBER'] for t in vcard['telephone_numbers']],
        'photos': photos,
    }


class StoryPeer(Peer):
    def __init__(self, args):
        super().__init__(args)
        xmpp = self.xmpp
        for plugin in ('xep_0203', 'xep_0054', 'xep_0153', 'xep_0191'):
            xmpp.register_plugin(plugin)
        xmpp.add_event_handler('message', self.on_message)
        xmpp.add_event_handler('message_error', self.on_message_error)
        xmpp.add_event_handler('blocked', lambda iq: self.on_push('blocked', iq, iq['block']['items']))
        xmpp.add_event_handler('unblocked', lambda iq: self.on_push('unblocked', iq, iq['unblock']['items']))
        xmpp.add_event_handler('vcard_avatar_update',
                               lambda p: emit('avatar-update', **{'from': str(p['from']), 'photo': p['vcard_temp_update']['photo']}))

    def on_message(self, msg):
        if msg['type'] == 'error':
            return  # reported as message-error
        delay = None
        if msg.xml.find('{urn:xmpp:delay}delay') is not None:
            d = msg['delay']
            delay = {'from': str(d['from']) if d['from'] else None,
                     'stamp': d['stamp'].isoformat() if d['stamp'] else None, 'text': d['text'] or None}
        emit('message', **{'from': str(msg['from']), 'to': str(msg['to']), 'type': msg['type'], 'id': msg['id'] or None,
                           'body': msg['body'], 'delay': delay})

    def on_message_error(self, msg):
        err = msg['error']
        emit('message-error', **{'from': str(msg['from']), 'id': msg['id'] or None, 'condition': err['condition'],
                                 'error_type': err['type'],
                                 'blocked': err.xml.find('{%s}blocked' % NS_BLOCKING_ERRORS) is not None})

    def on_push(self, event, iq, items):
        emit(event, **{'from': str(iq['from']) if iq['from'] else None, 'items': sorted(str(j) for j in items)})
        # RFC 6120 §8.2.3: an IQ set is answered; slixmpp's xep_0191 only raises the event, as a
        # client application's handler would answer it.
        iq.reply().send()

    # ---- commands

    async def message(self, to, body):
        msg = self.xmpp.make_message(mto=slixmpp.JID(to), mbody=body, mtype='chat')
        msg.send()
        return {'id': msg['id']}

    async def publish_vcard(self, fn=None, nickname=None, email=None):
        """XEP-0054 §3.2 through the plugin: a whole vCard with text fields."""
        vcard = self.xmpp['xep_0054'].make_vcard()
        if fn:
            vcard['FN'] = fn
        if nickname:
            vcard['NICKNAME'] = nickname  # an extension: the plugin's one interface
        if email:
            vcard['EMAIL']['USERID'] = email
            vcard['EMAIL']['INTERNET'] = True
        await self.xmpp['xep_0054'].publish_vcard(vcard=vcard, timeout=10)

    async def set_avatar(self, data, type):
        """XEP-0153 through the plugin: fetches the own vCard, sets PHOTO in it, publishes it, and
        sends presence again with the new hash."""
        await self.xmpp['xep_0153'].set_avatar(avatar=base64.b64decode(data), mtype=type, timeout=10)

    async def own_hash(self):
        """The photo hash slixmpp's xep_0153 puts into outgoing presence."""
        return {'hash': await self.xmpp['xep_0153'].api['get_hash'](self.xmpp.boundjid)}

    async def get_vcard(self, jid):
        result = await self.xmpp['xep_0054'].get_vcard(jid, timeout=10)
        return {'from': str(result['from']), 'vcard': vcard_fields(result['vcard_temp'])}

    async def get_blocked(self):
        result = await self.xmpp['xep_0191'].get_blocked(timeout=10)
        return {'items': [str(j) for j in result['blocklist']['items']]}

    async def block(self, jid):
        result = await self.xmpp['xep_0191'].block(slixmpp.JID(jid), timeout=10)
        return {'type': result['type']}

    async def unblock(self, jid):
        result = await self.xmpp['xep_0191'].unblock(slixmpp.JID(jid), timeout=10)
        return {'type': result['type']}

    def handlers(self):
        return {**super().handlers(), 'message': self.message, 'publish-vcard': self.publish_vcard,
                'set-avatar': self.set_avatar, 'own-hash': self.own_hash, 'get-vcard': self.get_vcard,
                'get-blocked': self.get_blocked, 'block': self.block, 'unblock': self.unblock}


if __name__ == '__main__':
    main(StoryPeer)
