import { runCoordinationConformance } from '../testing/coordination.ts';
import { MemoryCoordinationStore } from './memory-coordination.ts';

runCoordinationConformance('memory', async () => {
  const store = new MemoryCoordinationStore();
  const first = store.client();
  const second = store.client();
  return {
    first,
    second,
    minLeaseTtlMs: 200,
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    cleanup: async () => {
      await first.close();
      await second.close();
    },
  };
});
