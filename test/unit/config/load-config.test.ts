import { expect } from 'chai';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { applyEnvOverrides, ConfigError, loadConfigFile, validateConfig } from '../../../server/config/load-config.ts';
import { modules } from '../../../xep/index.ts';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('fills every default from a minimal file', () => {
    const c = validateConfig({ hosts: [{ domain: 'Example.ORG.' }] }, modules);
    expect(c.hosts[0]!.domain).to.equal('example.org');
    expect(c.dataDir).to.equal('./data');
    expect(c.storage).to.deep.equal({ kind: 'embedded', compactionIntervalSeconds: 3600 });
    expect(c.c2s.maxStanzaBytes).to.equal(256 * 1024);
    expect(c.sasl.throttle).to.deep.equal({
      perAddress: { freeFailures: 5, baseDelaySeconds: 1, maxDelaySeconds: 900, forgetAfterSeconds: 3600 },
      perBlock: { distinctAddresses: 8 },
      perAccount: { hotAfterFailures: 5, coolDownSeconds: 300 },
    });
    expect(c.modules).to.deep.equal({
      disco: {},
      ping: {},
      register: { allowRegistration: false, allowPasswordChange: true, allowCancellation: true, minPasswordLength: 8, throttle: { attempts: 5, windowSeconds: 3600 } },
      vcard: { maxBytes: 64 * 1024 },
      version: { showOs: false },
      time: { offset: 'system' },
      'contact-addresses': { abuse: [], admin: [], feedback: [], sales: [], security: [], status: [], support: [] },
      private: { maxBytes: 131072, maxNamespaces: 32, refuseReservedNamespaces: true },
      last: { maxStatusLength: 1024 },
      blocking: { maxItems: 1000, maxTrackedPresence: 1000 },
    });
  });

  it('is frozen after validation', () => {
    const c = validateConfig({ hosts: [{ domain: 'a.example' }] }, modules);
    expect(Object.isFrozen(c)).to.equal(true);
    expect(Object.isFrozen(c.c2s)).to.equal(true);
    expect(Object.isFrozen(c.hosts[0])).to.equal(true);
  });

  it('names the key path of an unknown key', () => {
    expect(problemsOf(() => validateConfig({ hosts: [{ domain: 'a' }], c2s: { maxStanzaByte: 1 } }, modules))).to.deep.equal([
      'c2s.maxStanzaByte: unknown key',
    ]);
    expect(problemsOf(() => validateConfig({ hosts: [{ domain: 'a' }], bogus: 1 }, modules))).to.deep.equal(['bogus: unknown key']);
  });

  it('names the key path and expectation of a wrong type or a bad value', () => {
    const problems = problemsOf(() =>
      validateConfig({ hosts: [{ domain: 'a' }], listeners: [{ type: 'c2s', port: 'x' }], c2s: { maxAuthFailures: 9 } }, modules),
    );
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/^listeners\.0\.port: .*expected number/);
    expect(problems[1]).to.match(/^c2s\.maxAuthFailures: .*<=5/);
  });

  it('refuses the old fixed-window throttle keys and a throttle that would forget an address while it waits', () => {
    expect(problemsOf(() => validateConfig({ hosts: [{ domain: 'a' }], sasl: { throttle: { perIp: { attempts: 10, windowSeconds: 60 } } } }, modules))).to.deep.equal([
      'sasl.throttle.perIp: unknown key',
    ]);
    const problems = problemsOf(() =>
      validateConfig({ hosts: [{ domain: 'a' }], sasl: { throttle: { perAddress: { baseDelaySeconds: 10, maxDelaySeconds: 5, forgetAfterSeconds: 4 } } } }, modules),
    );
    expect(problems).to.deep.equal([
      'sasl.throttle.perAddress.maxDelaySeconds: must be at least baseDelaySeconds',
      'sasl.throttle.perAddress.forgetAfterSeconds: must be at least maxDelaySeconds',
    ]);
  });

  it('refuses an unknown listener type, a bad MongoDB URI and a missing host list', () => {
    expect(problemsOf(() => validateConfig({ hosts: [{ domain: 'a' }], listeners: [{ type: 'smtp', port: 1 }] }, modules))[0]).to.match(/^listeners\.0\.type:/);
    expect(problemsOf(() => validateConfig({ hosts: [{ domain: 'a' }], storage: { kind: 'mongodb', uri: 'http://x' } }, modules))[0]).to.match(/^storage\.uri:/);
    expect(problemsOf(() => validateConfig({}, modules))[0]).to.match(/^hosts:/);
  });

  it('refuses duplicate hosts and two listeners on one address', () => {
    const problems = problemsOf(() =>
      validateConfig(
        { hosts: [{ domain: 'a' }, { domain: 'A' }], listeners: [{ type: 'c2s', port: 5222 }, { type: 'http', port: 5222 }] },
        modules,
      ),
    );
    expect(problems).to.deep.equal(['hosts.1.domain: "a" is listed twice', 'listeners.1: *:5222 is already used by listeners.0']);
  });

  it('validates module sections with the module schema, and false disables a module', () => {
    const withSchema = [{ name: 'demo', config: z.strictObject({ limit: z.number().default(3) }) }];
    expect(validateConfig({ hosts: [{ domain: 'a' }] }, withSchema).modules).to.deep.equal({ demo: { limit: 3 } });
    expect(validateConfig({ hosts: [{ domain: 'a' }], modules: { demo: false } }, withSchema).modules).to.deep.equal({ demo: false });
    expect(problemsOf(() => validateConfig({ hosts: [{ domain: 'a' }], modules: { demo: { limit: 'x' } } }, withSchema))[0]).to.match(
      /^modules\.demo/,
    );
    expect(problemsOf(() => validateConfig({ hosts: [{ domain: 'a' }], modules: { nosuch: {} } }, withSchema))).to.deep.equal([
      'modules.nosuch: unknown key',
    ]);
  });

  it('applies environment overrides for containers', () => {
    const raw = applyEnvOverrides(
      { hosts: [{ domain: 'a' }], storage: { kind: 'embedded' } },
      { CHORUS_DATA_DIR: '/srv/data', CHORUS_MONGODB_URI: 'mongodb://db/chorus', CHORUS_HOSTS: 'x.example, y.example', CHORUS_LOG_LEVEL: 'debug' },
    );
    const c = validateConfig(raw, modules);
    expect(c.dataDir).to.equal('/srv/data');
    expect(c.storage).to.deep.equal({ kind: 'mongodb', uri: 'mongodb://db/chorus' });
    expect(c.hosts.map((h) => h.domain)).to.deep.equal(['x.example', 'y.example']);
    expect(c.log.level).to.equal('debug');
  });

  describe('files', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'chorus-config-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('loads the shipped default and example configurations', async () => {
      const def = await loadConfigFile('conf/chorus.yaml', modules, {});
      expect(def.hosts.map((h) => h.domain)).to.deep.equal(['localhost']);
      expect(def.listeners.map((l) => `${l.type}:${l.port}`)).to.deep.equal(['c2s:5222', 'c2s:5223', 'http:5280']);
      const example = await loadConfigFile('conf/chorus.example.yaml', modules, {});
      expect(example.storage.kind).to.equal('mongodb');
    });

    it('reports YAML syntax errors and duplicate keys with the file name', async () => {
      const file = join(dir, 'bad.yaml');
      await writeFile(file, 'hosts:\n  - domain: a\nhosts: []\n');
      try {
        await loadConfigFile(file, modules, {});
        expect.fail('expected an error');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).message).to.contain(file);
        expect((err as ConfigError).problems[0]).to.match(/not valid YAML/);
      }
    });
  });
});
