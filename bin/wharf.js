#!/usr/bin/env node
import { register } from 'tsx/esm/api';

register();
const argv = process.argv.slice(2);
// The admin commands are HTTP clients of a running broker: they load none of the broker's modules.
const { ADMIN_GROUPS, runAdminCli } = await import('./admin/admin-cli.ts');
if (ADMIN_GROUPS.includes(argv[0])) {
  process.exitCode = await runAdminCli(argv);
} else {
  const { runCli } = await import('./cli.ts');
  const { BrokerError } = await import('../core/index.ts');
  runCli(argv).catch((err) => {
    process.stderr.write(`wharf: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(BrokerError.is(err) && err.code.startsWith('CONFIG') ? 2 : 1);
  });
}
