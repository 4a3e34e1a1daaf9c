#!/usr/bin/env node
/**
 * The wharf CLI. It runs the compiled code in dist/ (npm run build; the published package ships only
 * that, and always runs it). In a source checkout whose dist/ is missing or older than the sources, or
 * with WHARF_FROM_SOURCES=1 (the tests and benchmarks set it), it runs the TypeScript sources through tsx.
 */
import { compiledIsCurrent, hasSources } from './build-state.js';

const compiled = !hasSources() || (process.env.WHARF_FROM_SOURCES !== '1' && compiledIsCurrent());
if (!compiled) (await import('tsx/esm/api')).register();
const argv = process.argv.slice(2);
// The admin commands are HTTP clients of a running broker: they load none of the broker's modules.
const { ADMIN_GROUPS, runAdminCli } = await import(compiled ? '../dist/bin/admin/admin-cli.js' : './admin/admin-cli.ts');
if (ADMIN_GROUPS.includes(argv[0])) {
  process.exitCode = await runAdminCli(argv);
} else {
  const { runCli } = await import(compiled ? '../dist/bin/cli.js' : './cli.ts');
  const { BrokerError } = await import(compiled ? '../dist/core/index.js' : '../core/index.ts');
  runCli(argv).catch((err) => {
    process.stderr.write(`wharf: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(BrokerError.is(err) && err.code.startsWith('CONFIG') ? 2 : 1);
  });
}
