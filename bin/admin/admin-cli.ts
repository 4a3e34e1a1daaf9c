import { parseArgs } from 'node:util';
import { AdminClient, CliFailure, EXIT } from './admin-client.ts';
import { integerOption, usage, type AdminCommand, type OptionSpec } from './command.ts';
import { groupsCreate } from './commands/groups-create.ts';
import { groupsDelete } from './commands/groups-delete.ts';
import { groupsDescribe } from './commands/groups-describe.ts';
import { groupsList } from './commands/groups-list.ts';
import { queuesList } from './commands/queues-list.ts';
import { topicsCreate } from './commands/topics-create.ts';
import { topicsDelete } from './commands/topics-delete.ts';
import { topicsDescribe } from './commands/topics-describe.ts';
import { topicsList } from './commands/topics-list.ts';

const COMMANDS: readonly AdminCommand[] = [topicsList, topicsDescribe, topicsCreate, topicsDelete, groupsList, groupsDescribe, groupsCreate, groupsDelete, queuesList];

/** The first words that name an admin command; `wharf <group> <command>`. */
export const ADMIN_GROUPS: readonly string[] = ['topics', 'groups', 'queues'];

const DEFAULT_SERVER = 'http://127.0.0.1:15672';

const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  server: { type: 'string', value: 'URL', description: `the broker's admin HTTP server (default ${DEFAULT_SERVER})` },
  user: { type: 'string', value: 'NAME', description: 'a user with a management tag (default guest, accepted from loopback)' },
  password: { type: 'string', value: 'PASSWORD', description: 'its password (default guest)' },
  'timeout-ms': { type: 'string', value: 'MS', description: 'give up on a silent server after this long (default 10000)' },
  json: { type: 'boolean', description: 'print the admin API\'s JSON instead of a table' },
  help: { type: 'boolean', description: 'show this help' },
};

const EXIT_CODES = `exit codes: ${EXIT.ok} done, ${EXIT.refused} refused by the server, ${EXIT.usage} bad usage, ${EXIT.unreachable} server unreachable, ${EXIT.unauthorized} not authorized (401), ${EXIT.notFound} not found (404)`;

export interface AdminIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * `wharf topics|groups|queues <command> [args] [options]`: one request or two to a running broker's
 * admin HTTP API, printed as a table or (--json) as the API's JSON. Resolves with the exit code; a
 * failure is one line on stderr.
 */
export async function runAdminCli(argv: readonly string[], io: AdminIo = process): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (!(err instanceof CliFailure)) throw err;
    io.stderr.write(`wharf: ${err.message}\n`);
    return err.exitCode;
  }
}

async function run(argv: readonly string[], io: AdminIo): Promise<number> {
  const [group, name, ...rest] = argv as [string, string | undefined, ...string[]];
  const command = COMMANDS.find((c) => c.group === group && c.name === name);
  if (!command) {
    if (name !== undefined && !isHelp(name)) throw usage(`unknown command: wharf ${group} ${name} (wharf ${group} --help lists them)`);
    io.stdout.write(groupHelp(group));
    return EXIT.ok;
  }
  if (rest.some(isHelp)) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  const specs = { ...command.options, ...COMMON_OPTIONS };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: Object.fromEntries(Object.entries(specs).map(([n, s]) => [n, { type: s.type, multiple: s.multiple ?? false }])), allowPositionals: true, strict: true });
  } catch (err) {
    const option = /'(-[^' ]+)/.exec((err as Error).message)?.[1];
    const code = (err as { code?: string }).code;
    throw usage(`${code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${option}` : code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? `${option} needs a value` : (err as Error).message} (wharf ${group} ${name} --help)`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== command.args.length) {
    throw usage(command.args.length === 0 ? `unexpected argument ${positionals[0]} (wharf ${group} ${name} --help)` : `wharf ${group} ${name} needs ${command.args.join(' ')}`);
  }
  const client = new AdminClient({
    server: (values.server as string | undefined) ?? DEFAULT_SERVER,
    user: (values.user as string | undefined) ?? 'guest',
    password: (values.password as string | undefined) ?? 'guest',
    timeoutMs: integerOption(values, 'timeout-ms', 1) ?? 10_000,
  });
  const result = await command.run({ args: positionals, options: values, client });
  io.stdout.write(values.json === true ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
  return EXIT.ok;
}

const isHelp = (arg: string): boolean => arg === '--help' || arg === '-h' || arg === 'help';

const flagOf = (name: string, s: OptionSpec): string => `--${name}${s.value ? ` ${s.value}` : ''}`;

function optionLines(specs: Readonly<Record<string, OptionSpec>>, width: number): string[] {
  return Object.entries(specs).map(([name, s]) => `  ${flagOf(name, s).padEnd(width)}  ${s.description}`);
}

function commandHelp(c: AdminCommand): string {
  const width = Math.max(...Object.entries({ ...c.options, ...COMMON_OPTIONS }).map(([name, s]) => flagOf(name, s).length));
  return [
    `usage: wharf ${c.group} ${c.name}${c.args.map((a) => ` ${a}`).join('')} [options]`,
    '',
    c.summary,
    '',
    ...(Object.keys(c.options).length > 0 ? ['options:', ...optionLines(c.options, width), ''] : []),
    'connection and output:',
    ...optionLines(COMMON_OPTIONS, width),
    '',
    ...(c.notes ? [...c.notes, ''] : []),
    EXIT_CODES,
    '',
  ].join('\n');
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.group === group);
  const usages = commands.map((c) => `wharf ${c.group} ${c.name}${c.args.map((a) => ` ${a}`).join('')}`);
  const width = Math.max(...usages.map((u) => u.length));
  return [`usage: wharf ${group} <command> [options]`, '', ...commands.map((c, i) => `  ${usages[i]!.padEnd(width)}  ${c.summary}`), '', `wharf ${group} <command> --help shows a command's options.`, ''].join('\n');
}
