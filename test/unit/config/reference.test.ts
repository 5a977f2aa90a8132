import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { configReference } from '../../../server/config/reference.ts';
import { complianceDoc } from '../../../server/config/compliance.ts';
import { modules } from '../../../xep/index.ts';

describe('configuration reference', () => {
  it('docs/configuration.md is what the schema generates (run `npm run docs:config` after changing the schema)', async () => {
    expect(await readFile('docs/configuration.md', 'utf8')).to.equal(configReference(modules));
  });

  it('docs/compliance.md lists the core and every module\'s specs (run `npm run docs:config`)', async () => {
    expect(await readFile('docs/compliance.md', 'utf8')).to.equal(complianceDoc(modules));
  });

  it('conf/chorus.example.yaml shows every documented key', async () => {
    const example = parse(await readFile('conf/chorus.example.yaml', 'utf8')) as Record<string, unknown>;
    const commented = await readFile('conf/chorus.example.yaml', 'utf8');
    const keys = [...configReference(modules).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
    const missing = keys.filter((key) => {
      // The last path segment must appear as a key, either live or in a commented-out alternative.
      const leaf = key.replace(/\{[^}]*\}/g, '').replace(/\[\]/g, '').split('.').pop()!;
      return !new RegExp(`(^|[\\s{,#])${leaf}:`, 'm').test(commented);
    });
    expect(missing).to.deep.equal([]);
    expect(example).to.have.property('hosts');
  });
});
