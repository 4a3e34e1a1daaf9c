import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saltPassword } from '../../core/index.ts';
import { ApiKeys, defaultMetadataRequest } from '../../plugins/kafka/codec/index.ts';
import { KafkaError } from '../../plugins/kafka/error-codes.ts';
import type { KafkaTestBroker } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';
import { addUser, startSecureKafka } from '../helpers/security.ts';

/** The ACL and SCRAM admin APIs, KIP-368 re-authentication, and SASL bytes from a fuzzer. */
let kafka: KafkaTestBroker;
beforeAll(async () => {
  kafka = await startSecureKafka();
  await addUser(kafka.broker, 'admin', 'admin-secret', { superUser: true });
  await addUser(kafka.broker, 'bob', 'bob-secret');
});
afterAll(() => kafka.stop());

const client = (sasl: SASLOptions, config: Record<string, unknown> = {}, brokers = kafka.brokers) =>
  new Kafka({ clientId: 'security-admin-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl, ...config });
const asAdmin = () => client({ mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' });

const kcat = (mechanism: string, user: string, password: string, args: string[], input?: string) =>
  runProgram(
    'kcat',
    ['-b', kafka.brokers[0]!, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`, ...args],
    { input, timeoutMs: 20_000 },
  );

/** A wire connection logged in with PLAIN over SaslAuthenticate v1; resolves with the session lifetime the broker granted. */
async function login(user: string, password: string, port = kafka.port): Promise<{ wire: KafkaWire; lifetimeMs: bigint }> {
  const wire = await KafkaWire.connect(port);
  await wire.request(ApiKeys.SaslHandshake, 1, { mechanism: 'PLAIN' });
  const answer = await wire.request(ApiKeys.SaslAuthenticate, 1, { authBytes: Buffer.from(`\0${user}\0${password}`) });
  expect(answer.errorCode).toBe(0);
  return { wire, lifetimeMs: BigInt(answer.sessionLifetimeMs) };
}

describe('the ACL admin APIs (kafkajs) and the SCRAM admin APIs', () => {
  it.skipIf(!hasProgram('kcat', 'the ACL admin test'))('kafkajs creates, describes and deletes ACLs, and they take effect for kcat at once', async () => {
    const admin = asAdmin().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'bob-1', numPartitions: 1 }] });
    await expect(kcat('SCRAM-SHA-256', 'bob', 'bob-secret', ['-P', '-t', 'bob-1'], 'denied\n')).rejects.toThrow(/Topic authorization failed/i);

    const acl = {
      resourceType: AclResourceTypes.TOPIC, resourceName: 'bob-', resourcePatternType: ResourcePatternTypes.PREFIXED,
      principal: 'User:bob', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW,
    };
    await admin.createAcls({ acl: [acl] });
    const described = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
    expect(described.resources).toEqual([
      { resourceType: AclResourceTypes.TOPIC, resourceName: 'bob-', resourcePatternType: ResourcePatternTypes.PREFIXED, acls: [{ principal: 'User:bob', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW }] },
    ]);
    await kcat('SCRAM-SHA-256', 'bob', 'bob-secret', ['-P', '-t', 'bob-1'], 'allowed\n');

    const deleted = await admin.deleteAcls({ filters: [{ ...acl, resourceName: 'bob-1', resourcePatternType: ResourcePatternTypes.MATCH }] });
    expect(deleted.filterResponses[0]!.matchingAcls).toHaveLength(1);
    await admin.disconnect();
    await expect(kcat('SCRAM-SHA-256', 'bob', 'bob-secret', ['-P', '-t', 'bob-1'], 'denied again\n')).rejects.toThrow(/Topic authorization failed/i);
  });

  it.skipIf(!hasProgram('kcat', 'the SCRAM admin test'))('AlterUserScramCredentials adds a user kcat can log in as; Describe lists it; deleting it locks kcat out', async () => {
    // No installed client library speaks KIP-554 (kafkajs 2.2, librdkafka 2.0, kafka-python 2.0 all predate it): the request is
    // sent with Wharf's codec, the client hashes as Kafka's admin client does, and kcat proves the result.
    const { wire } = await login('admin', 'admin-secret');
    const salt = randomBytes(16);
    const saltedPassword = await saltPassword('SCRAM-SHA-256', 'carol-secret', salt, 8192);
    const upsert = await wire.request(ApiKeys.AlterUserScramCredentials, 0, { deletions: [], upsertions: [{ name: 'carol', mechanism: 1, iterations: 8192, salt, saltedPassword }] });
    expect(upsert.results).toEqual([{ user: 'carol', errorCode: 0, errorMessage: null }]);
    expect(await kcat('SCRAM-SHA-256', 'carol', 'carol-secret', ['-L'])).toContain('broker');
    await expect(kcat('SCRAM-SHA-512', 'carol', 'carol-secret', ['-L', '-m', '2'])).rejects.toThrow(/Authentication failed/);

    const described = await wire.request(ApiKeys.DescribeUserScramCredentials, 0, { users: [{ name: 'carol' }, { name: 'nobody' }] });
    expect(described.results).toEqual([
      { user: 'carol', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 8192 }] },
      { user: 'nobody', errorCode: KafkaError.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to describe a user credential that does not exist: nobody', credentialInfos: [] },
    ]);
    const removed = await wire.request(ApiKeys.AlterUserScramCredentials, 0, { deletions: [{ name: 'carol', mechanism: 1 }], upsertions: [] });
    expect(removed.results).toEqual([{ user: 'carol', errorCode: 0, errorMessage: null }]);
    wire.close();
    await expect(kcat('SCRAM-SHA-256', 'carol', 'carol-secret', ['-L', '-m', '2'])).rejects.toThrow(/Authentication failed/);

    const { wire: bobs } = await login('bob', 'bob-secret');
    const refused = await bobs.request(ApiKeys.AlterUserScramCredentials, 0, { deletions: [{ name: 'admin', mechanism: 2 }], upsertions: [] });
    expect(refused.results[0]!.errorCode).toBe(KafkaError.CLUSTER_AUTHORIZATION_FAILED);
    bobs.close();
  });
});

describe('KIP-368 re-authentication (connections.max.reauth.ms = 2000)', () => {
  let reauth: KafkaTestBroker;
  beforeAll(async () => {
    reauth = await startSecureKafka({ kafka: { connectionsMaxReauthMs: 2000 } });
    await addUser(reauth.broker, 'admin', 'admin-secret', { superUser: true });
  });
  afterAll(() => reauth.stop());

  it('kafkajs re-authenticates on its connection before the session expires and keeps producing', async () => {
    const logins: string[] = [];
    const logCreator = () => ({ log }: { log: { message: string } }) => void (/authentication successful/.test(log.message) && logins.push(log.message));
    const sasl = { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' } as const;
    const producer = client(sasl, { logLevel: logLevel.DEBUG, logCreator, reauthenticationThreshold: 1000 }, reauth.brokers).producer();
    await producer.connect();
    const deadline = Date.now() + 4500;
    let sent = 0;
    while (Date.now() < deadline) {
      await producer.send({ topic: 'reauth', messages: [{ value: `m${sent++}` }] });
      await new Promise((r) => setTimeout(r, 100));
    }
    await producer.disconnect();
    expect(sent).toBeGreaterThan(20);
    // One login per connection (bootstrap, then the partition leader), then at least three renewals on the one kept.
    expect(logins.length).toBeGreaterThanOrEqual(4);
  });

  it('tells the client the session lifetime and closes a connection that does not re-authenticate in time', async () => {
    const { wire, lifetimeMs } = await login('admin', 'admin-secret', reauth.port);
    expect(lifetimeMs).toBe(2000n);
    expect((await wire.request(ApiKeys.Metadata, 1, { ...defaultMetadataRequest(), topics: [] })).brokers).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 2100));
    wire.send(wire.encode(ApiKeys.Metadata, 1, { ...defaultMetadataRequest(), topics: [] }));
    await wire.closed;
  });
});

describe('SASL bytes from a fuzzer', () => {
  it('never crash or hang the broker: each connection gets answers or is closed, and logins still work after', async () => {
    const validFirst = (mechanism: string) => Buffer.from(mechanism === 'PLAIN' ? '\0admin\0admin-secret' : `n,,n=admin,r=${'x'.repeat(24)}`);
    const token = (mechanism: string) =>
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
        fc.tuple(fc.nat(40), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, bytes]) => {
          const b = Buffer.from(validFirst(mechanism));
          b.set(bytes.subarray(0, Math.max(0, b.length - (at % b.length))), at % b.length);
          return b;
        }),
      );
    const scenario = fc
      .tuple(fc.constantFrom('PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'GSSAPI', ''), fc.constantFrom(0, 1), fc.boolean())
      .chain(([mechanism, version, startValid]) => fc.record({ mechanism: fc.constant(mechanism), version: fc.constant(version), startValid: fc.constant(startValid), tokens: fc.array(token(mechanism), { maxLength: 3 }) }));

    await fc.assert(
      fc.asyncProperty(scenario, async ({ mechanism, version, startValid, tokens }) => {
        const wire = await KafkaWire.connect(kafka.port);
        wire.socket.on('error', () => undefined);
        const closedOrTimedOut = Promise.race([wire.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('hung'), 5000))]);
        wire.send(wire.encode(ApiKeys.SaslHandshake, version, { mechanism }));
        const sends = startValid ? [validFirst(mechanism), ...tokens] : tokens;
        for (const t of sends) {
          if (version === 1) wire.send(wire.encode(ApiKeys.SaslAuthenticate, 1, { authBytes: t }));
          else wire.send([Buffer.from(Uint32Array.of(0).buffer), t].map((b, i) => (i === 0 ? (b.writeUInt32BE(t.length), b) : b)));
        }
        wire.socket.end();
        expect(await closedOrTimedOut).toBe('closed');
      }),
      { numRuns: 150 },
    );
    const admin = asAdmin().admin();
    await admin.connect();
    await admin.listTopics();
    await admin.disconnect();
  });
});
