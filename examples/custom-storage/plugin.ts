import { ContainerModule } from 'inversify';
import { definePlugin, TOKENS, type SegmentStore } from '../../core/index.ts';
import { MapSegmentStore } from './map-segment-store.ts';

/** The plugin that loads MapSegmentStore into a broker: it provides the SegmentStore role. */
export function mapStorage(store = new MapSegmentStore()) {
  return definePlugin({
    name: 'storage-map',
    provides: [TOKENS.SegmentStore],
    module: () => new ContainerModule(({ bind }) => void bind<SegmentStore>(TOKENS.SegmentStore).toConstantValue(store)),
  });
}
