// XEP-0092 Software Version for the server's own JID: the server's name and the version in
// package.json, and the operating system only when the operator allows it (XEP-0092 §5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as os from 'node:os';
import { z } from 'zod';
import { x } from '../../server/xml/element.ts';
import { PROJECT_ROOT } from '../../server/project-root.ts';
import type { Module } from '../../server/module.ts';

export const NS_VERSION = 'jabber:iq:version';
export const SOFTWARE_NAME = 'Chorus';

const configSchema = z.strictObject({
  showOs: z
    .boolean()
    .default(false)
    .describe('Include <os/> (operating system and kernel release) in the answer; hidden by default (XEP-0092 §5 requires a way to hide it)'),
});

export type VersionConfig = z.output<typeof configSchema>;

/** Read once: the version the running code was installed as. */
export const SOFTWARE_VERSION: string = readPackageVersion();

export const version: Module<VersionConfig> = {
  name: 'version',
  specs: ['XEP-0092 v1.1 (jabber:iq:version) for the server JID'],
  config: configSchema,
  setup(ctx) {
    const osName = ctx.config.showOs ? `${os.type()} ${os.release()}` : null;
    // XEP-0092 §2: <name/> and <version/> are REQUIRED in a result, <os/> is OPTIONAL.
    ctx.iq.handle('get', NS_VERSION, 'host', () =>
      x('query', { xmlns: NS_VERSION },
        x('name', null, SOFTWARE_NAME),
        x('version', null, SOFTWARE_VERSION),
        osName !== null ? x('os', null, osName) : null,
      ),
    );
  },
};

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || pkg.version === '') throw new Error('package.json has no version');
  return pkg.version;
}
