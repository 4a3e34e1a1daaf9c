/**
 * What the build reads and whether dist/ is its output for the sources as they are now: a build stamps
 * dist/ with the newest modification time among its inputs, and dist/ is current while none is newer.
 * A published package ships dist/ without the sources (and without the stamp).
 */
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const DIST = path.join(ROOT, 'dist');
export const STAMP = '.build-stamp';

/**
 * The build's inputs, relative to the root: every file under core/ and plugins/ but tests (TypeScript is
 * compiled, other files are copied beside it), the CLI's TypeScript in bin/, and the compiler settings.
 */
export function buildInputs() {
  const inputs = ['tsconfig.json', 'tsconfig.build.json'];
  const visit = (dir, wanted) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file, wanted);
      else if (!entry.name.endsWith('.test.ts') && wanted(entry.name)) inputs.push(file);
    }
  };
  visit('core', () => true);
  visit('plugins', () => true);
  visit('bin', (name) => name.endsWith('.ts'));
  return inputs;
}

/** False in a published package: it ships dist/ without the TypeScript sources. */
export function hasSources() {
  return fs.existsSync(path.join(ROOT, 'core', 'index.ts'));
}

/** The newest modification time (ms) among the build's inputs, or undefined where there are no sources (a published package). */
export function newestInputTime() {
  if (!hasSources()) return undefined;
  let newest = 0;
  for (const file of buildInputs()) newest = Math.max(newest, fs.statSync(path.join(ROOT, file), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return newest;
}

/** True when dist/ was built from the sources as they are now, or when there are no sources: a published package runs dist/. */
export function compiledIsCurrent() {
  const newest = newestInputTime();
  if (newest === undefined) return true;
  try {
    return newest <= JSON.parse(fs.readFileSync(path.join(DIST, STAMP), 'utf8')).inputs;
  } catch {
    return false;
  }
}
