// XEP-0030 Service Discovery for the server's own JID and, on their behalf, for its accounts'
// bare JIDs; XEP-0115 Entity Capabilities for the server. Identities and features come from the
// host's registry, which derives features from the IQ table, so the answer never claims what is
// not there, and the caps 'ver' is computed from that same answer.
import { StanzaError } from '../../server/errors.ts';
import { x, type Element } from '../../server/xml/element.ts';
import { Band } from '../../server/hooks.ts';
import type { Module, ModuleContext } from '../../server/module.ts';
import type { IqRequest, IqTarget } from '../../server/iq-table.ts';
import type { DiscoView } from '../../server/disco-registry.ts';
import { CAPS_NODE, NS_CAPS, capsVerification } from './caps.ts';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const NS_DATA = 'jabber:x:data';

export const disco: Module = {
  name: 'disco',
  specs: [
    'XEP-0030 v2.5.0 (http://jabber.org/protocol/disco#info, disco#items)',
    'XEP-0128 v1.0 (extended information)',
    'XEP-0115 v1.6.0 (entity capabilities: the server\'s, as a stream feature)',
  ],
  setup(ctx) {
    ctx.disco.identity({ category: 'server', type: 'im', name: 'Chorus' }, 'host');
    ctx.disco.identity({ category: 'account', type: 'registered' }, 'account');
    // XEP-0115 §7: an entity that supports caps says so in disco#info.
    ctx.disco.feature(NS_CAPS, 'host');
    const registry = ctx.disco.registry;
    const hostVer = capsVerOf(registry);

    ctx.iq.handle('get', NS_DISCO_INFO, 'host', (req) => {
      const node = req.payload.attrs.node;
      if (node === undefined) return infoElement(registry, 'host');
      // XEP-0115 §6.2: the caps node 'NODE#VER' is answered with the very content that VER hashes.
      if (node === `${CAPS_NODE}#${hostVer()}`) return infoElement(registry, 'host', node);
      // XEP-0030 §3.1: a node the entity does not know is item-not-found.
      throw new StanzaError('item-not-found');
    });
    ctx.iq.handle('get', NS_DISCO_ITEMS, 'host', (req) => {
      if (req.payload.attrs.node !== undefined) throw new StanzaError('item-not-found');
      return x('query', { xmlns: NS_DISCO_ITEMS });
    });
    ctx.iq.handle('get', NS_DISCO_INFO, 'account', (req) => withAccess(ctx, req, (allowed) => {
      // XEP-0030 §8 rule 1: nothing but service-unavailable for whoever may not see the account's
      // presence, so they cannot tell whether it exists (a missing account gets the same, RFC 6121 §8.5.1).
      if (!allowed) throw new StanzaError('service-unavailable');
      if (req.payload.attrs.node !== undefined) throw new StanzaError('item-not-found');
      return infoElement(registry, 'account');
    }));
    ctx.iq.handle('get', NS_DISCO_ITEMS, 'account', (req) => withAccess(ctx, req, (allowed) => {
      // XEP-0030 §8 rule 2: the items are the available resources, and those who may not see the
      // account's presence get an empty result instead.
      if (!allowed) return x('query', { xmlns: NS_DISCO_ITEMS });
      if (req.payload.attrs.node !== undefined) throw new StanzaError('item-not-found');
      const account = req.account!;
      return x('query', { xmlns: NS_DISCO_ITEMS },
        ctx.sessions.resources(account).filter((s) => s.available).map((s) => x('item', { jid: s.jid.toString() })),
      );
    }));

    // XEP-0115 §6.3: the server's capabilities as a stream feature, so clients need not ask each time.
    ctx.hooks.observe('c2s/features', Band.Notify, ({ features }) => {
      features.push(x('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver: hostVer() }));
    });
  },
};

function withAccess(ctx: ModuleContext<unknown>, req: IqRequest, answer: (allowed: boolean) => Element): Element | Promise<Element> {
  const allowed = ctx.roster.mayReceivePresence(req.account!, req.from);
  return allowed === true ? answer(true) : allowed.then(answer);
}

/**
 * The caps 'ver' of what the host answers right now (XEP-0115 §5.1), worked out again only when the
 * registry has changed: reading the features and hashing them costs tens of µs, and every login asks.
 */
function capsVerOf(registry: DiscoView): () => string {
  let revision = -1;
  let ver = '';
  return () => {
    if (registry.revision !== revision) {
      revision = registry.revision;
      ver = capsVerification({
        identities: registry.identitiesOf('host'),
        features: registry.featuresOf('host'),
        extensions: registry.extensionsOf('host'),
      });
    }
    return ver;
  };
}

export function infoElement(registry: DiscoView, target: IqTarget, node?: string): Element {
  const query = x('query', { xmlns: NS_DISCO_INFO, node });
  for (const id of registry.identitiesOf(target)) {
    query.cnode(x('identity', { category: id.category, type: id.type, name: id.name, 'xml:lang': id.lang }));
  }
  for (const feature of registry.featuresOf(target)) query.cnode(x('feature', { var: feature }));
  for (const ext of registry.extensionsOf(target)) {
    query.cnode(
      x('x', { xmlns: NS_DATA, type: 'result' },
        x('field', { var: 'FORM_TYPE', type: 'hidden' }, x('value', null, ext.formType)),
        ext.fields.map((f) => x('field', { var: f.var }, f.values.map((v) => x('value', null, v)))),
      ),
    );
  }
  return query;
}
