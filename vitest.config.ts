import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'plugins/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    setupFiles: ['./test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Brokers the tests start with bin/wharf.js run the TypeScript sources, even where a dist/ build is current.
    env: { WHARF_FROM_SOURCES: '1' },
  },
});
