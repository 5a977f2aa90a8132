// docs/compliance.md: what Chorus implements, from the core's list and each module's `specs`.
import { CORE_SPECS } from '../specs.ts';
import type { Module } from '../module.ts';

export function complianceDoc(modules: readonly Module<unknown>[]): string {
  const lines = [
    '# Compliance',
    '',
    '<!-- Generated from server/specs.ts and each module\'s `specs` by `npm run docs:config`; do not edit by hand. -->',
    '',
    '## Core (`server/`)',
    '',
    ...CORE_SPECS.map((s) => `- ${s}`),
    '',
    '## Modules (`xep/`)',
    '',
    '| module | specifications |',
    '| --- | --- |',
    ...modules.map((m) => `| \`${m.name}\` | ${m.specs.join('; ')} |`),
    '',
  ];
  return lines.join('\n');
}
