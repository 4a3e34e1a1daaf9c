import { CliFailure, EXIT, type AdminClient } from './admin-client.ts';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in help, e.g. `N`. */
  readonly value?: string;
  readonly multiple?: boolean;
  readonly description: string;
}

export type OptionValues = Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;

export interface CommandInput {
  /** The positional arguments, as many as the command names. */
  readonly args: readonly string[];
  readonly options: OptionValues;
  readonly client: AdminClient;
}

/** What a command prints: `json` with --json (for scripts), `text` otherwise (for people). */
export interface CommandResult {
  readonly json: unknown;
  readonly text: string;
}

/** One admin command, e.g. `wharf topics create <topic>`. */
export interface AdminCommand {
  readonly group: 'topics' | 'groups' | 'queues';
  readonly name: string;
  readonly summary: string;
  /** Positional arguments, e.g. `['<topic>']`. */
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Lines of help after the options: defaults, examples. */
  readonly notes?: readonly string[];
  run(input: CommandInput): Promise<CommandResult>;
}

export const PROTOCOL_OPTION: OptionSpec = { type: 'string', value: 'kafka|rocketmq', description: 'which protocol\'s view (default kafka)' };

export type Protocol = 'kafka' | 'rocketmq';

export function protocolOf(options: OptionValues): Protocol {
  const value = options.protocol ?? 'kafka';
  if (value === 'kafka' || value === 'rocketmq') return value;
  throw usage(`--protocol must be kafka or rocketmq, not ${JSON.stringify(value)}`);
}

export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

/** An integer option in [min, max], or undefined when absent. */
export function integerOption(options: OptionValues, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = stringOption(options, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) throw usage(`--${name} must be an integer in [${min}, ${max}], not ${JSON.stringify(value)}`);
  return n;
}

/** Refuses options that do not apply to the chosen protocol, naming the one they need. */
export function onlyFor(options: OptionValues, protocol: Protocol, names: readonly string[]): void {
  for (const name of names) {
    if (options[name] !== undefined) throw usage(`--${name} applies to ${protocol === 'kafka' ? 'Kafka' : 'RocketMQ'} only (--protocol ${protocol})`);
  }
}

export function usage(message: string): CliFailure {
  return new CliFailure(message, EXIT.usage);
}

export const protocolName = (protocol: Protocol): string => (protocol === 'kafka' ? 'Kafka' : 'RocketMQ');
