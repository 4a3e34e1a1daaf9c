import { spawn, spawnSync } from 'node:child_process';

/**
 * Programs from Debian packages that some tests drive (`.ci/run` installs them all). On a machine
 * without one, the tests that need it skip, and one line names the package to install.
 */
const PROGRAMS = {
  kcat: { check: ['kcat', '-V'], package: 'kcat' },
  // Import the names the tests use: any empty directory called kafka or pika on the path imports as a package.
  'kafka-python': { check: ['/usr/bin/python3', '-c', 'from kafka import KafkaProducer, KafkaConsumer'], package: 'python3-kafka' },
  // librdkafka's own admin calls, reached through ctypes where the Python binding lacks them (test/fixtures/rdkafka-admin.py).
  librdkafka: { check: ['/usr/bin/python3', '-c', "import ctypes; ctypes.CDLL('librdkafka.so.1').rd_kafka_DeleteConsumerGroupOffsets"], package: 'librdkafka1' },
  'confluent-kafka': { check: ['/usr/bin/python3', '-c', 'from confluent_kafka import Producer, Consumer'], package: 'python3-confluent-kafka' },
  pika: { check: ['/usr/bin/python3', '-c', 'from pika import BlockingConnection, ConnectionParameters'], package: 'python3-pika' },
  'amqp-tools': { check: ['amqp-publish', '--help'], package: 'amqp-tools' },
  celery: { check: ['/usr/bin/python3', '-c', 'import celery.bin.celery, kombu'], package: 'python3-celery' },
  etcd: { check: ['etcd', '--version'], package: 'etcd-server' },
  sarama: { check: ['sh', '-c', 'go version && gcc --version && test -d /usr/share/gocode/src/github.com/Shopify/sarama'], package: 'golang-go golang-github-shopify-sarama-dev gcc' },
  openssl: { check: ['openssl', 'version'], package: 'openssl' },
  rabbitmq: { check: ['test', '-x', '/usr/lib/rabbitmq/bin/rabbitmq-server'], package: 'rabbitmq-server' },
  rabbitmqadmin: { check: ['rabbitmqadmin', '--version'], package: 'rabbitmq-server' },
  escript: { check: ['sh', '-c', 'command -v escript'], package: 'erlang-base' },
  chromium: { check: ['chromium', '--version'], package: 'chromium' },
  prlimit: { check: ['prlimit', '--version'], package: 'util-linux' },
  // A private network namespace (root): a non-loopback address no one outside can reach.
  netns: { check: ['unshare', '-n', 'ip', 'link', 'set', 'lo', 'up'], package: 'util-linux iproute2' },
  // Packet filtering inside such a namespace (the network-partition tests).
  iptables: { check: ['unshare', '-n', 'iptables', '-S'], package: 'iptables' },
} as const satisfies Record<string, { check: readonly string[]; package: string }>;

export type ProgramName = keyof typeof PROGRAMS;

const found = new Map<ProgramName, boolean>();

/** True when the program runs here; otherwise prints one line naming the Debian package to install. */
export function hasProgram(name: ProgramName, needs = 'these tests'): boolean {
  let present = found.get(name);
  if (present === undefined) {
    const [command, ...args] = PROGRAMS[name].check;
    const result = spawnSync(command!, args, { stdio: 'ignore', timeout: 10_000 });
    present = result.error === undefined && result.status === 0;
    found.set(name, present);
  }
  if (!present) console.warn(`SKIP ${needs}: ${name} is not installed (apt-get install ${PROGRAMS[name].package})`);
  return present;
}

/** Runs a client process without blocking the event loop a broker under test shares; resolves with its stdout. */
export function runProgram(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr}`));
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a Python 3 script with Debian's interpreter (where the python3-* client packages live). */
export const runPython = (script: string, timeoutMs?: number): Promise<string> => runProgram('/usr/bin/python3', ['-c', script], { timeoutMs });
