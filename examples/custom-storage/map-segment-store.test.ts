import { createRootLogger, SegmentedStorageEngine, SingleNodeReplicator } from '../../core/index.ts';
import { runStorageConformance } from '../../core/testing/index.ts';
import { MapSegmentStore } from './map-segment-store.ts';

runStorageConformance('examples/custom-storage MapSegmentStore', async (clock) => {
  const store = new MapSegmentStore();
  const make = () => new SegmentedStorageEngine(store, new SingleNodeReplicator(), clock, createRootLogger('silent'));
  let engine = make();
  return {
    engine,
    async reopen({ clean }) {
      if (clean) await engine.close();
      engine = make();
      return engine;
    },
    cleanup: () => engine.close(),
  };
});
