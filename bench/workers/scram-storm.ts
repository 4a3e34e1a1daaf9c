/**
 * A reconnect storm: `count` clients connect to a Kafka port at once, each logs in with SCRAM and hangs
 * up. The client side salts the password once (all users share it), so the broker's side is measured.
 * Prints `storm <seconds> <ok> <failed>`. Usage: scram-storm.ts <port> <count> <user> <password> <mechanism>
 */
import { KafkaAdminClient } from '../../bin/kafka-admin-client.ts';

const [port, count, user, password, mechanism] = process.argv.slice(2) as [string, string, string, string, string];
const saltedPasswords = new Map<string, Buffer>();
const login = { user, password, mechanism, saltedPasswords };
(await KafkaAdminClient.connect(`127.0.0.1:${port}`, login)).close();
const started = performance.now();
let ok = 0;
let failed = 0;
await Promise.all(
  Array.from({ length: Number(count) }, async () => {
    try {
      const client = await KafkaAdminClient.connect(`127.0.0.1:${port}`, login);
      client.close();
      ok++;
    } catch {
      failed++;
    }
  }),
);
console.log(`storm ${((performance.now() - started) / 1000).toFixed(3)} ${ok} ${failed}`);
