// `npm start` runs the compiled build (build/, stamped build/BUILT by `npm run build`), which is
// stale once the sources change. Running old code silently would mislead whoever just edited
// it: say so.
import { readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './project-root.ts';

const BUILD_DIR = join(PROJECT_ROOT, 'build');
const SOURCE_DIRS = ['server', 'xep'];

/** A source file changed after the build this process runs from; null when fresh or running from source. */
export async function newerSource(): Promise<string | null> {
  if (!fileURLToPath(import.meta.url).startsWith(BUILD_DIR + sep)) return null;
  const built = (await stat(join(BUILD_DIR, 'BUILT')).catch(() => null))?.mtimeMs;
  if (built === undefined) return null;
  for (const dir of SOURCE_DIRS) {
    const files = await readdir(join(PROJECT_ROOT, dir), { recursive: true }).catch(() => [] as string[]);
    for (const file of files) {
      if (!file.endsWith('.ts')) continue;
      const path = join(PROJECT_ROOT, dir, file);
      if ((await stat(path)).mtimeMs > built) return path;
    }
  }
  return null;
}
