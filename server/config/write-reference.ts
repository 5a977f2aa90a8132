// `npm run docs:config`: regenerate docs/configuration.md from the schema.
import { writeFile } from 'node:fs/promises';
import { configReference } from './reference.ts';
import { modules } from '../../xep/index.ts';

await writeFile(new URL('../../docs/configuration.md', import.meta.url), configReference(modules));
console.log('wrote docs/configuration.md');
