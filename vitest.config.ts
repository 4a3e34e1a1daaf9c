import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'plugins/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    setupFiles: ['./test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // vitest's default is one worker fewer than the cores: on a 2-core machine one file at a time. The tests
    // mostly wait on brokers and client processes, so two at a time halve the run (953 tests: 686 s -> 343 s).
    maxWorkers: 2,
    // Brokers the tests start with bin/wharf.js run the TypeScript sources, even where a dist/ build is current.
    env: { WHARF_FROM_SOURCES: '1' },
  },
});
