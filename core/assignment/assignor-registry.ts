import { inject, injectable, multiInject } from 'inversify';
import type { BrokerConfig } from '../config.ts';
import { BrokerError } from '../errors.ts';
import { TOKENS } from '../tokens.ts';
import type { Assignor } from './assignor.ts';

/** Every assignor bound to TOKENS.Assignor, by name; the configured one (`groups.assignor`) is the default. */
@injectable()
export class AssignorRegistry {
  private readonly byName = new Map<string, Assignor>();

  constructor(
    @multiInject(TOKENS.Assignor) assignors: Assignor[],
    @inject(TOKENS.Config) private readonly config: BrokerConfig,
  ) {
    for (const assignor of assignors) {
      if (this.byName.has(assignor.name)) throw new BrokerError('PLUGIN_DUPLICATE_PROVIDER', `two assignors are named ${assignor.name}`);
      this.byName.set(assignor.name, assignor);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): Assignor {
    const assignor = this.byName.get(name);
    if (!assignor) throw new BrokerError('UNKNOWN_ASSIGNOR', `no assignor named ${name}; known: ${this.names.join(', ')}`);
    return assignor;
  }

  /** The assignor the broker uses when it assigns (server-side Kafka groups, RocketMQ). */
  get default(): Assignor {
    return this.get(this.config.groups.assignor);
  }
}
