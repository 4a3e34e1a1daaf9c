import { ContainerModule } from 'inversify';
import { definePlugin, TOKENS, type Assignor } from '../../core/index.ts';
import { ConsistentHashAssignor } from './consistent-hash-assignor.ts';

/** Adds the assignor to the broker's registry; `groups.assignor: 'consistent-hash'` makes it the default. */
export const consistentHashAssignorPlugin = definePlugin({
  name: 'consistent-hash-assignor',
  module: () => new ContainerModule(({ bind }) => void bind<Assignor>(TOKENS.Assignor).toConstantValue(new ConsistentHashAssignor())),
});
