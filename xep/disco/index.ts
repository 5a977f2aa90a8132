// XEP-0030 Service Discovery for the server's own JID (and an account's own queries about
// itself). Identities and features come from the host's registry, which derives features
// from the IQ table, so the answer never claims what is not there.
import { StanzaError } from '../../server/errors.ts';
import { x, type Element } from '../../server/xml/element.ts';
import type { Module } from '../../server/module.ts';
import type { IqRequest, IqTarget } from '../../server/iq-table.ts';
import type { DiscoView } from '../../server/disco-registry.ts';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const NS_DATA = 'jabber:x:data';

export const disco: Module = {
  name: 'disco',
  specs: ['XEP-0030 v2.5 (http://jabber.org/protocol/disco#info, disco#items)', 'XEP-0128 v1.0 (extended information)'],
  setup(ctx) {
    ctx.disco.identity({ category: 'server', type: 'im', name: 'Chorus' }, 'host');
    ctx.disco.identity({ category: 'account', type: 'registered' }, 'account');
    const info = (target: IqTarget) => (req: IqRequest) => {
      checkAccess(req, target);
      // XEP-0030 §3.1: a node the entity does not know is item-not-found.
      if (req.payload.attrs.node !== undefined) throw new StanzaError('item-not-found');
      return infoElement(ctx.disco.registry, target);
    };
    const items = (target: IqTarget) => (req: IqRequest) => {
      checkAccess(req, target);
      if (req.payload.attrs.node !== undefined) throw new StanzaError('item-not-found');
      return x('query', { xmlns: NS_DISCO_ITEMS });
    };
    ctx.iq.handle('get', NS_DISCO_INFO, 'host', info('host'));
    ctx.iq.handle('get', NS_DISCO_ITEMS, 'host', items('host'));
    ctx.iq.handle('get', NS_DISCO_INFO, 'account', info('account'));
    ctx.iq.handle('get', NS_DISCO_ITEMS, 'account', items('account'));
  },
};

/** Only the account itself may ask the server about it until presence subscriptions exist (issue 4). */
function checkAccess(req: IqRequest, target: IqTarget): void {
  if (target === 'account' && !req.from.bare().equals(req.account!)) throw new StanzaError('service-unavailable');
}

export function infoElement(registry: DiscoView, target: IqTarget): Element {
  const query = x('query', { xmlns: NS_DISCO_INFO });
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
