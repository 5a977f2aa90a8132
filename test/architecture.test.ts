// Guards the shape DESIGN.md describes. An exception is a decision written in docs/architecture.md.
import { expect } from 'chai';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { modules } from '../xep/index.ts';

const ROOT = new URL('..', import.meta.url).pathname;

function sources(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(join(ROOT, dir))) return out;
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...sources(rel));
    } else if (/\.(ts|tsx|js|mjs)$/.test(entry.name)) {
      out.push(rel);
    }
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

function resolvesInto(file: string, spec: string, folder: string): boolean {
  if (!spec.startsWith('.')) return false;
  const target = relative(ROOT, join(ROOT, file, '..', spec));
  return target === folder || target.startsWith(folder + '/');
}

/** The composition roots: the only files in server/ that read the module list (docs/architecture.md). */
const COMPOSITION_ROOTS = new Set(['server/main.ts', 'server/config/write-reference.ts']);

describe('architecture (DESIGN.md)', () => {
  it('the top level holds exactly the agreed entries', () => {
    // build/ and tsconfig.build.json: the compiled server that npm start runs (docs/architecture.md).
    const allowed = new Set(['server', 'client', 'xep', 'conf', 'docs', 'test', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'build', 'README.md', '.ci', '.git', '.gitignore', 'node_modules', 'data']);
    const present = readdirSync(ROOT).filter((e) => !allowed.has(e));
    expect(present).to.deep.equal([]);
  });

  it('server/ never imports xep/, except the composition roots', () => {
    const offenders = sources('server').filter((f) => !COMPOSITION_ROOTS.has(f) && imports(f).some((s) => resolvesInto(f, s, 'xep')));
    expect(offenders).to.deep.equal([]);
  });

  it('client/ never imports server/ or xep/', () => {
    const offenders = sources('client').filter((f) => imports(f).some((s) => resolvesInto(f, s, 'server') || resolvesInto(f, s, 'xep')));
    expect(offenders).to.deep.equal([]);
  });

  it('a module imports no other module', () => {
    const offenders: string[] = [];
    // xep/index.ts is the module list itself.
    for (const f of sources('xep').filter((f) => f.split('/').length > 2)) {
      const own = f.split('/')[1];
      for (const s of imports(f)) {
        if (!s.startsWith('.')) continue;
        const target = relative(ROOT, join(ROOT, f, '..', s));
        if (target.startsWith('xep/') && target.split('/')[1] !== own && !target.startsWith('xep/index')) offenders.push(`${f} -> ${s}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });

  it('every module has its folder, a README, non-empty specs and tests in test/xep/<name>/', () => {
    for (const m of modules) {
      expect(m.specs, `${m.name}: specs`).to.be.an('array').that.is.not.empty;
      expect(existsSync(join(ROOT, 'xep', m.name, 'README.md')), `xep/${m.name}/README.md`).to.equal(true);
      const testDir = join(ROOT, 'test', 'xep', m.name);
      expect(existsSync(testDir) && statSync(testDir).isDirectory(), `test/xep/${m.name}/`).to.equal(true);
      expect(readdirSync(testDir).some((f) => f.endsWith('.test.ts')), `test/xep/${m.name}/*.test.ts`).to.equal(true);
    }
  });

  it('every module folder is in the module list', () => {
    const folders = readdirSync(join(ROOT, 'xep'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(folders).to.deep.equal(modules.map((m) => m.name).sort());
  });

  it('every module documents its config keys in its README', () => {
    for (const m of modules) {
      const readme = readFileSync(join(ROOT, 'xep', m.name, 'README.md'), 'utf8');
      expect(readme, `xep/${m.name}/README.md`).to.match(/^## Configuration/m);
    }
  });
});
