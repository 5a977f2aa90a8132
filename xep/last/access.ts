// Who may learn an account's last activity (XEP-0012 §3, §4, §8): the account itself, and whoever
// the account lets see its presence (RFC 6121 §3: its roster item for the requester has
// subscription 'from' or 'both').
import type { Jid } from '../../server/jid.ts';
import type { ModuleContext } from '../../server/module.ts';

export function mayReceivePresence(ctx: ModuleContext<unknown>, account: Jid, requester: Jid): true | Promise<boolean> {
  if (requester.bare().equals(account)) return true;
  return ctx.roster.item(account, requester).then((item) => item?.subscription === 'from' || item?.subscription === 'both');
}
