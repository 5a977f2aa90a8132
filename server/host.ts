// A virtual host: its domain, hooks, IQ table, disco registry and loaded modules.
import { Hooks } from './hooks.ts';
import { IqTable } from './iq-table.ts';
import { DiscoRegistry } from './disco-registry.ts';
import { parseJid, type Jid } from './jid.ts';
import type { HostConfig } from './config/schema.ts';
import type { Logger } from './log.ts';
import type { LoadedModule } from './module.ts';

export class Host {
  readonly domain: string;
  readonly jid: Jid;
  readonly hooks: Hooks;
  readonly iq = new IqTable();
  readonly disco: DiscoRegistry;
  readonly modules: LoadedModule[] = [];

  constructor(readonly config: HostConfig, log: Logger) {
    this.jid = parseJid(config.domain);
    this.domain = this.jid.domain;
    this.disco = new DiscoRegistry(this.iq);
    this.hooks = new Hooks((hook, owner, err) => log.error({ err, hook, module: owner, host: this.domain }, 'hook observer failed'));
  }

  async stopModules(): Promise<void> {
    for (const m of this.modules.splice(0).reverse()) await m.stop();
  }
}
