// XEP-0157 Contact Addresses for XMPP Services: the operator's addresses, published in the
// server's disco#info as a XEP-0128 extension form (FORM_TYPE http://jabber.org/network/serverinfo).
import { z } from 'zod';
import type { Module } from '../../server/module.ts';
import { addressProblem } from './addresses.ts';

export const FORM_TYPE_SERVERINFO = 'http://jabber.org/network/serverinfo';

function addresses(purpose: string) {
  return z
    .array(z.string().superRefine((value, ctx) => {
      const problem = addressProblem(value);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)}: ${problem}` });
    }))
    .refine((list) => new Set(list).size === list.length, { message: 'an address is listed twice' })
    .default([])
    .describe(`Addresses ${purpose} (xmpp:, mailto:, https: or http: URIs)`);
}

// XEP-0157 §7.1: the fields registered for the serverinfo FORM_TYPE, in the registry's order.
const configSchema = z.strictObject({
  abuse: addresses('for reports of abusive traffic'),
  admin: addresses('of the service administrators'),
  feedback: addresses('for customer feedback'),
  sales: addresses('for sales and marketing'),
  security: addresses('for security concerns'),
  status: addresses('where the service status is published'),
  support: addresses('for customer support'),
});

export type ContactAddressesConfig = z.output<typeof configSchema>;
type Role = keyof ContactAddressesConfig;
const ROLES: readonly Role[] = ['abuse', 'admin', 'feedback', 'sales', 'security', 'status', 'support'];

export const contactAddresses: Module<ContactAddressesConfig> = {
  name: 'contact-addresses',
  specs: ['XEP-0157 v1.1.0 (http://jabber.org/network/serverinfo in disco#info, XEP-0128)'],
  config: configSchema,
  setup(ctx) {
    const fields = ROLES.filter((role) => ctx.config[role].length > 0).map((role) => ({
      var: `${role}-addresses`,
      values: [...ctx.config[role]],
    }));
    // Nothing configured, nothing to say: an empty serverinfo form would only cost bytes.
    if (fields.length === 0) return;
    // XEP-0157 §3: the form is returned for disco#info requests to the server's bare domain.
    ctx.disco.extension({ formType: FORM_TYPE_SERVERINFO, fields }, 'host');
  },
};
