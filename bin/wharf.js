#!/usr/bin/env node
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./cli.ts');
const { BrokerError } = await import('../core/index.ts');
runCli(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`wharf: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(BrokerError.is(err) && err.code.startsWith('CONFIG') ? 2 : 1);
});
