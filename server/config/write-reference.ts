// `npm run docs:config`: regenerate docs/configuration.md and docs/compliance.md.
import { writeFile } from 'node:fs/promises';
import { configReference } from './reference.ts';
import { complianceDoc } from './compliance.ts';
import { modules } from '../../xep/index.ts';

await writeFile(new URL('../../docs/configuration.md', import.meta.url), configReference(modules));
await writeFile(new URL('../../docs/compliance.md', import.meta.url), complianceDoc(modules));
console.log('wrote docs/configuration.md and docs/compliance.md');
