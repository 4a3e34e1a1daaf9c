import { BrokerError, MetadataLog, type StorageEngine } from '../../../core/index.ts';
import type { GroupSpec } from '../rocket-config.ts';
import { checkRetryPolicy } from './retry-policy.ts';

export type GroupSource = 'configuration' | 'runtime';

/**
 * Consumer group settings (FIFO delivery, retry policy): those of the configuration (`rocket.groups`),
 * and those defined at runtime through the admin API, kept in the internal log `__wharf_rocket-groups`.
 * A configured group is changed in the configuration, not at runtime.
 */
export class GroupDirectory {
  private constructor(
    private readonly configured: Readonly<Record<string, GroupSpec>>,
    private readonly stored: MetadataLog<GroupSpec>,
  ) {}

  static async open(engine: StorageEngine, configured: Readonly<Record<string, GroupSpec>>): Promise<GroupDirectory> {
    return new GroupDirectory(configured, await MetadataLog.open<GroupSpec>(engine, 'rocket-groups'));
  }

  spec(group: string): GroupSpec | undefined {
    return this.configured[group] ?? this.stored.get(group);
  }

  source(group: string): GroupSource | undefined {
    if (this.configured[group]) return 'configuration';
    return this.stored.has(group) ? 'runtime' : undefined;
  }

  /** Every defined group, configured ones first. */
  names(): string[] {
    return [...new Set([...Object.keys(this.configured), ...[...this.stored.entries()].map(([name]) => name)])];
  }

  /** Defines or changes a runtime group; resolves once stored. */
  async define(group: string, spec: GroupSpec): Promise<void> {
    if (this.configured[group]) throw new BrokerError('CONFIG_INVALID', `group ${group} is configured in rocket.groups; change it there`);
    if (spec.fifo !== undefined && typeof spec.fifo !== 'boolean') throw new BrokerError('CONFIG_INVALID', 'fifo must be a boolean');
    if (spec.retry !== undefined) checkRetryPolicy(spec.retry, `group ${group} retry`);
    await this.stored.put(group, { ...(spec.fifo === undefined ? {} : { fifo: spec.fifo }), ...(spec.retry === undefined ? {} : { retry: spec.retry }) });
  }

  /** Forgets a runtime group's settings; false if it had none. */
  async remove(group: string): Promise<boolean> {
    if (this.configured[group]) throw new BrokerError('CONFIG_INVALID', `group ${group} is configured in rocket.groups; change it there`);
    if (!this.stored.has(group)) return false;
    await this.stored.delete(group);
    return true;
  }
}
