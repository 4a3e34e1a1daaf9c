import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasProgram, runProgram } from '../helpers/programs.ts';

const WHARF = path.resolve(import.meta.dirname, '../../bin/wharf.js');
const ADDRESS = '10.77.0.1';

/**
 * RabbitMQ's loopback_users, seen from a non-loopback address: the broker and pika run in a private
 * network namespace whose loopback interface also carries 10.77.0.1, so nothing outside can reach the
 * listener, and a client connecting to that address is not on loopback.
 */
async function loginsFromOutsideLoopback(): Promise<string[]> {
  const users = JSON.stringify([
    { name: 'guest', password: 'guest', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
    { name: 'remote', password: 'remote-secret', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
  ]);
  const broker = (port: number, extra = '') =>
    `${process.execPath} ${WHARF} start --host ${ADDRESS} --storage memory --log-level error --kafka-port 0 --rocket-port 0 --stream-port 0 --http-port 0 --amqp-port ${port} --amqp-users '${users}' ${extra} >/dev/null &`;
  const script = `
set -e
ip link set lo up
ip addr add ${ADDRESS}/32 dev lo
${broker(5672)}
first=$!
${broker(5673, "--amqp-loopback-users '[]'")}
second=$!
trap 'kill $first $second' EXIT
/usr/bin/python3 - <<'PY'
import pika, socket, time
for port in (5672, 5673):
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(('${ADDRESS}', port), 1).close(); break
        except OSError:
            if time.time() > deadline: raise
            time.sleep(0.1)
    for user, password in (('guest', 'guest'), ('remote', 'remote-secret')):
        try:
            pika.BlockingConnection(pika.ConnectionParameters('${ADDRESS}', port, '/', pika.PlainCredentials(user, password))).close()
            print(port, user, 'ok')
        except Exception as e:
            print(port, user, 'refused:', e)
PY
`;
  return (await runProgram('unshare', ['-n', 'bash', '-c', script], { timeoutMs: 60_000 })).trim().split('\n');
}

describe('loopback_users', () => {
  it.skipIf(!hasProgram('netns', 'the loopback_users test') || !hasProgram('pika', 'the loopback_users test'))(
    'guest may log in only from loopback by default; other users from anywhere; --amqp-loopback-users [] lifts the rule',
    async () => {
      expect(await loginsFromOutsideLoopback()).toEqual([
        "5672 guest refused: ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.'",
        '5672 remote ok',
        '5673 guest ok',
        '5673 remote ok',
      ]);
    },
    90_000,
  );
});
