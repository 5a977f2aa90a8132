// XEP-0202 Entity Time for the server's own JID: the UTC time and the server's offset from UTC,
// both in the formats of XEP-0082.
import { z } from 'zod';
import { x } from '../../server/xml/element.ts';
import type { Module } from '../../server/module.ts';

export const NS_TIME = 'urn:xmpp:time';

const configSchema = z.strictObject({
  offset: z
    .enum(['system', 'utc'])
    .default('system')
    .describe("The <tzo/> reported: 'system' is the server's own offset from UTC (its TZ, daylight saving included); 'utc' always reports +00:00, which hides where the server is (XEP-0202 §6)"),
});

export type TimeConfig = z.output<typeof configSchema>;

export const time: Module<TimeConfig> = {
  name: 'time',
  specs: ['XEP-0202 v2.0 (urn:xmpp:time) for the server JID, in the XEP-0082 DateTime and TZD formats'],
  config: configSchema,
  setup(ctx) {
    const useSystemOffset = ctx.config.offset === 'system';
    ctx.iq.handle('get', NS_TIME, 'host', () => {
      const now = new Date();
      // XEP-0202 §2: both children are REQUIRED.
      return x('time', { xmlns: NS_TIME },
        x('tzo', null, formatTzo(useSystemOffset ? -now.getTimezoneOffset() : 0)),
        x('utc', null, formatUtc(now)),
      );
    });
  },
};

/** XEP-0082 §2.1 TZD in its numeric form, `(+|-)hh:mm`; UTC itself is `+00:00`. */
export function formatTzo(minutesEastOfUtc: number): string {
  const sign = minutesEastOfUtc < 0 ? '-' : '+';
  const abs = Math.abs(minutesEastOfUtc);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * XEP-0082 §3.2 DateTime profile, expressed in UTC as XEP-0202 §2 requires:
 * `CCYY-MM-DDThh:mm:ss.sssZ` (the fraction of a second is allowed by the profile).
 */
export function formatUtc(date: Date): string {
  return date.toISOString();
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
