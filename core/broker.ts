import { Container } from 'inversify';
import type { DestinationStream } from 'pino';
import { systemClock, type Clock } from './clock.ts';
import { buildConfigSchema, resolveConfig, type BrokerConfig, type ConfigLayer, type ConfigSchema } from './config.ts';
import { CORE_DEFAULT_ROLES, corePlugin } from './core-plugin.ts';
import { BrokerStatus } from './broker-status.ts';
import { BrokerError } from './errors.ts';
import { createRootLogger, type Logger } from './logging.ts';
import type { ListenerAddress, ListenerRegistry } from './net/listener-registry.ts';
import type { TlsCredentials } from './net/tls-credentials.ts';
import type { BrokerPlugin, PluginContext } from './plugin.ts';
import { TOKENS } from './tokens.ts';

export interface CreateBrokerOptions {
  plugins: readonly BrokerPlugin<never>[];
  /** Configuration values, or layers applied in order over the defaults. */
  config?: Readonly<Record<string, unknown>> | readonly ConfigLayer[];
  /** Replaces the root logger built from `logLevel`. */
  logger?: Logger;
  /** Where the root logger writes (default stdout). */
  logDestination?: DestinationStream;
  clock?: Clock;
}

export class Broker {
  private started: Array<{ plugin: BrokerPlugin; context: PluginContext }> = [];
  private stopping: Promise<void> | undefined;

  constructor(
    readonly container: Container,
    readonly config: BrokerConfig,
    readonly logger: Logger,
    private readonly plugins: ReadonlyArray<{ plugin: BrokerPlugin; context: PluginContext }>,
    private readonly status: BrokerStatus,
  ) {}

  get<T>(token: symbol): T {
    return this.container.get<T>(token);
  }

  get running(): boolean {
    return this.status.state === 'running';
  }

  /** The plugins in start order. */
  get pluginNames(): string[] {
    return this.plugins.map((p) => p.plugin.name);
  }

  listeners(): readonly ListenerAddress[] {
    return this.container.get<ListenerRegistry>(TOKENS.ListenerRegistry).list();
  }

  /** Starts the plugins in dependency order; on failure stops the ones already started and rethrows. */
  async start(): Promise<this> {
    if (this.status.state !== 'created') throw new BrokerError('BROKER_STATE', `cannot start a broker that is ${this.status.state}`);
    this.status.state = 'starting';
    for (const entry of this.plugins) {
      try {
        await entry.plugin.start?.(entry.context);
        this.started.push(entry);
      } catch (err) {
        this.logger.error({ err, plugin: entry.plugin.name }, 'plugin failed to start');
        await this.stop();
        throw err;
      }
    }
    this.status.state = 'running';
    this.status.startedAt = Date.now();
    return this;
  }

  /** Stops the started plugins in reverse order: listeners stop accepting and drain, then storage flushes and closes. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.status.state = 'stopping';
      const errors: unknown[] = [];
      for (const entry of [...this.started].reverse()) {
        try {
          await entry.plugin.beforeStop?.(entry.context);
        } catch (err) {
          this.logger.error({ err, plugin: entry.plugin.name }, 'plugin failed to prepare for stopping');
        }
      }
      for (const entry of [...this.started].reverse()) {
        try {
          await entry.plugin.stop?.(entry.context);
        } catch (err) {
          this.logger.error({ err, plugin: entry.plugin.name }, 'plugin failed to stop cleanly');
          errors.push(err);
        }
      }
      this.started = [];
      this.status.state = 'stopped';
      if (errors.length > 0) throw new BrokerError('BROKER_STATE', 'some plugins failed to stop cleanly', { cause: errors[0] });
    })();
    return this.stopping;
  }

  /**
   * Reads the TLS certificate, key and CA files again: connections accepted from now on use them, open
   * ones keep theirs; files that do not load are logged and the certificates in use stay. True if reloaded.
   */
  reloadTls(): boolean {
    return this.container.get<TlsCredentials>(TOKENS.Tls).reload();
  }

  /** Reloads the TLS certificates on SIGHUP (instead of Node's default: exit). Returns the uninstaller. */
  reloadOnHangup(): () => void {
    const handler = (): void => {
      this.logger.info({ signal: 'SIGHUP' }, 'reloading TLS certificates');
      this.reloadTls();
    };
    process.on('SIGHUP', handler);
    return () => process.off('SIGHUP', handler);
  }

  /** Stops gracefully on SIGINT/SIGTERM, then exits; a second signal exits at once. Returns the uninstaller. */
  stopOnSignals(exit: (code: number) => void = (code) => process.exit(code)): () => void {
    let received = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (received) return exit(130);
      received = true;
      this.logger.info({ signal }, 'shutting down');
      this.stop().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  }
}

/**
 * Composes a broker: checks the plugins' requirements and roles, resolves the configuration,
 * builds the container and loads every plugin's module. `start()` it to run.
 */
export async function createBroker(options: CreateBrokerOptions): Promise<Broker> {
  const userPlugins = options.plugins as readonly BrokerPlugin[];
  const replaced = replacedRoles(userPlugins);
  const clustered = userPlugins.some((p) => (p.provides ?? []).includes(TOKENS.Coordination));
  const plugins = orderPlugins([corePlugin(replaced, clustered), ...userPlugins]);
  const schema: ConfigSchema = buildConfigSchema(plugins.flatMap((p) => (p.config ? [p.config] : [])));
  const layers: readonly ConfigLayer[] = Array.isArray(options.config)
    ? (options.config as readonly ConfigLayer[])
    : [{ source: 'options', values: (options.config ?? {}) as Record<string, unknown> }];
  const config = resolveConfig(schema, layers);
  const logger = options.logger ?? createRootLogger(config.logLevel, options.logDestination);
  for (const { source, ignored } of layers) {
    if (ignored) logger.warn({ ignored }, `${source}: ignoring ${ignored.join(', ')}: no such configuration key`);
  }
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<BrokerConfig>(TOKENS.Config).toConstantValue(config);
  container.bind<Logger>(TOKENS.Logger).toConstantValue(logger);
  container.bind<Clock>(TOKENS.Clock).toConstantValue(options.clock ?? systemClock);
  const status = new BrokerStatus();
  container.bind<BrokerStatus>(TOKENS.BrokerStatus).toConstantValue(status);
  const entries = plugins.map((plugin) => {
    const context: PluginContext = {
      container,
      config,
      section: plugin.config ? config[plugin.config.name] : undefined,
      logger: logger.child({ plugin: plugin.name }),
    };
    return { plugin, context };
  });
  for (const { plugin, context } of entries) {
    if (plugin.module) await container.loadAsync(plugin.module(context));
  }
  return new Broker(container, config, logger, entries, status);
}

function replacedRoles(plugins: readonly BrokerPlugin[]): Set<symbol> {
  const replaced = new Set<symbol>();
  for (const plugin of plugins) {
    for (const role of plugin.replaces ?? []) {
      if (!(plugin.provides ?? []).includes(role)) {
        throw new BrokerError('PLUGIN_INVALID', `plugin ${plugin.name} replaces ${describe(role)} without providing it`);
      }
      if (CORE_DEFAULT_ROLES.includes(role)) replaced.add(role);
    }
  }
  return replaced;
}

/** Validates names, roles and requirements, and orders plugins so that providers start before requirers. */
function orderPlugins(plugins: readonly BrokerPlugin[]): BrokerPlugin[] {
  const names = new Set<string>();
  for (const plugin of plugins) {
    if (typeof plugin?.name !== 'string' || plugin.name === '') throw new BrokerError('PLUGIN_INVALID', 'every plugin needs a name');
    if (names.has(plugin.name)) throw new BrokerError('PLUGIN_DUPLICATE', `two plugins are named ${plugin.name}`);
    names.add(plugin.name);
  }
  const providers = new Map<symbol, BrokerPlugin[]>();
  for (const plugin of plugins) {
    for (const role of plugin.provides ?? []) providers.set(role, [...(providers.get(role) ?? []), plugin]);
  }
  for (const [role, list] of providers) {
    if (list.length === 1) continue;
    const replacers = list.filter((p) => (p.replaces ?? []).includes(role));
    if (replacers.length !== 1) {
      throw new BrokerError(
        'PLUGIN_DUPLICATE_PROVIDER',
        `${describe(role)} is provided by ${list.map((p) => p.name).join(' and ')}; one of them must list it in replaces`,
      );
    }
    providers.set(role, replacers);
  }
  for (const plugin of plugins) {
    for (const role of plugin.requires ?? []) {
      if (!providers.has(role)) {
        throw new BrokerError('PLUGIN_MISSING_REQUIREMENT', `plugin ${plugin.name} requires ${describe(role)}, which no plugin provides`);
      }
    }
  }
  const ordered: BrokerPlugin[] = [];
  const state = new Map<BrokerPlugin, 'visiting' | 'done'>();
  const visit = (plugin: BrokerPlugin, path: string[]): void => {
    if (state.get(plugin) === 'done') return;
    if (state.get(plugin) === 'visiting') {
      throw new BrokerError('PLUGIN_INVALID', `plugins require each other in a cycle: ${[...path, plugin.name].join(' -> ')}`);
    }
    state.set(plugin, 'visiting');
    for (const role of plugin.requires ?? []) for (const provider of providers.get(role)!) if (provider !== plugin) visit(provider, [...path, plugin.name]);
    state.set(plugin, 'done');
    ordered.push(plugin);
  };
  for (const plugin of plugins) visit(plugin, []);
  return ordered;
}

function describe(role: symbol): string {
  return role.description ?? role.toString();
}
