import type { Container, ContainerModule } from 'inversify';
import type { BrokerConfig, ConfigSection, SectionFields, ValuesOf } from './config.ts';
import type { Logger } from './logging.ts';

export interface PluginContext<C = unknown> {
  readonly container: Container;
  readonly config: BrokerConfig;
  /** This plugin's configuration section, resolved. */
  readonly section: C;
  /** `logger.child({ plugin: name })`. */
  readonly logger: Logger;
}

/**
 * A unit of composition. `provides` lists the singleton roles (DI tokens) the plugin's module binds;
 * a second provider of a role is an error unless it lists the role in `replaces` too, which takes the
 * role over from a default provider. `requires` lists roles that must be provided by someone; those
 * providers start first. Multi-bound roles (assignors) are simply bound in `module`.
 */
export interface BrokerPlugin<C = unknown> {
  readonly name: string;
  readonly provides?: readonly symbol[];
  readonly replaces?: readonly symbol[];
  readonly requires?: readonly symbol[];
  readonly config?: ConfigSection;
  module?(context: PluginContext<C>): ContainerModule;
  start?(context: PluginContext<C>): Promise<void> | void;
  /** Called on every started plugin, in reverse start order, before any plugin stops (e.g. hand work over). */
  beforeStop?(context: PluginContext<C>): Promise<void> | void;
  /** Stop accepting work, drain, release resources. Called in reverse start order. */
  stop?(context: PluginContext<C>): Promise<void> | void;
}

/** Defines a plugin, typing its section from its config fields. */
export function definePlugin<F extends SectionFields = Record<never, never>>(
  plugin: Omit<BrokerPlugin<ValuesOf<F>>, 'config'> & { config?: ConfigSection<F> },
): BrokerPlugin<ValuesOf<F>> {
  return plugin;
}
