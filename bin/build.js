#!/usr/bin/env node
/**
 * npm run build: compiles core/, plugins/ and bin/ to JavaScript in dist/ with tsc (tsconfig.build.json:
 * ESM, `.ts` import specifiers rewritten to `.js`, declarations), and copies the other files of core/ and
 * plugins/ beside the output. It does not type-check: npm test and npm run typecheck do. The output is
 * written beside dist/ and swapped in whole, stamped for bin/wharf.js to compare with the sources.
 *
 *   node bin/build.js [--if-stale] [--out-dir <dir>]
 *     --if-stale: only when dist/ is missing or older than the sources
 *     --out-dir:  write the output there instead of dist/ (tests build a package in a temporary directory)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildInputs, compiledIsCurrent, DIST, newestInputTime, ROOT, STAMP } from './build-state.js';

const outDirFlag = process.argv.indexOf('--out-dir');
const target = outDirFlag > 0 ? path.resolve(process.argv[outDirFlag + 1] ?? '') : DIST;
if (process.argv.includes('--if-stale') && target === DIST && compiledIsCurrent()) process.exit(0);
const inputs = newestInputTime();
if (inputs === undefined) {
  process.stderr.write('wharf: no sources to build here (core/index.ts is missing)\n');
  process.exit(1);
}
const started = Date.now();
process.stderr.write(`wharf: compiling the sources to ${path.relative(ROOT, target) || target} ...\n`);
const out = `${target}.${process.pid}.tmp`;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
if (result.status !== 0) {
  fs.rmSync(out, { recursive: true, force: true });
  process.stderr.write('wharf: the build failed\n');
  process.exit(result.status ?? 1);
}
for (const file of buildInputs()) {
  if (file.endsWith('.ts') || file.startsWith('tsconfig')) continue;
  fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
  fs.copyFileSync(path.join(ROOT, file), path.join(out, file));
}
fs.writeFileSync(path.join(out, STAMP), `${JSON.stringify({ inputs })}\n`);
fs.rmSync(target, { recursive: true, force: true });
fs.renameSync(out, target);
process.stderr.write(`wharf: built ${path.relative(ROOT, target) || target} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
