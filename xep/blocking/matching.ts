// XEP-0191 §6 (and XEP-0016 §2.1, which it follows): which addresses a blocklist item covers.
// - user@domain/resource: only that resource;
// - user@domain: any resource of that account;
// - domain/resource: only that resource (an entity without localpart, such as a component's);
// - domain: the domain itself and every user@domain and domain/resource. Subdomains are not
//   covered (version 1.3 and XEP-0016 dropped them).
// Items are kept as normalised JID strings, so a check is at most three Set look-ups.
import type { Jid } from '../../server/jid.ts';

/** Whether any item of a blocklist covers `entity`. */
export function isBlocked(items: ReadonlySet<string>, entity: Jid): boolean {
  if (items.size === 0) return false;
  if (items.has(entity.toString())) return true;
  if (entity.resource !== '' && entity.local !== '' && items.has(entity.bareString)) return true;
  return entity.local !== '' || entity.resource !== '' ? items.has(entity.domain) : false;
}

/** Whether one item covers `entity` (the same rules, for a handful of items). */
export function itemCovers(item: Jid, entity: Jid): boolean {
  if (item.domain !== entity.domain) return false;
  if (item.resource !== '') return item.local === entity.local && item.resource === entity.resource;
  if (item.local !== '') return item.local === entity.local;
  return true;
}

/** Whether any of `items` covers `entity`. */
export function anyCovers(items: readonly Jid[], entity: Jid): boolean {
  for (const item of items) if (itemCovers(item, entity)) return true;
  return false;
}
