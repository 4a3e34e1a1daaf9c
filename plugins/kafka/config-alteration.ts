import { BrokerError } from '../../core/index.ts';
import { KafkaError, kafkaErrorOf } from './error-codes.ts';
import type { KafkaContext } from './kafka-context.ts';
import { CLUSTER_NAME } from './security/acl-codes.ts';
import type { KafkaSession } from './security/kafka-session.ts';
import { checkKafkaTopicName } from './kafka-names.ts';
import { alterTopicConfig, ConfigOperation } from './topic-configs.ts';

/** Kafka's ConfigResource.Type ids. */
export const ConfigResourceType = { topic: 2, broker: 4, brokerLogger: 8, clientMetrics: 16, group: 32 } as const;

export interface ConfigResourceChange {
  resourceType: number;
  resourceName: string;
  configs: ReadonlyArray<{ name: string; configOperation: number; value: string | null }>;
}

export interface ConfigResourceResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/**
 * Kafka's answer to AlterConfigs (`incremental: false`: each topic's overrides become exactly the configs
 * given) and IncrementalAlterConfigs (SET, DELETE, APPEND, SUBTRACT on the current overrides), one result
 * per resource in request order: the request checks of ConfigAdminManager.preprocess, then the topic change
 * as Kafka's controller validates and applies it. This broker's own configs are static: changing any is
 * refused as Kafka refuses a config that cannot be updated dynamically.
 */
export async function alterConfigResources(
  ctx: KafkaContext,
  session: KafkaSession,
  resources: readonly ConfigResourceChange[],
  incremental: boolean,
  validateOnly: boolean,
): Promise<ConfigResourceResult[]> {
  const key = (r: ConfigResourceChange) => `${r.resourceType}:${r.resourceName}`;
  const seen = new Map<string, number>();
  for (const r of resources) seen.set(key(r), (seen.get(key(r)) ?? 0) + 1);
  const results: ConfigResourceResult[] = [];
  for (const resource of resources) {
    const refusal =
      seen.get(key(resource))! > 1
        ? invalidRequest('Each resource must appear at most once.')
        : (unauthorized(session, resource) ??
          checkRequest(resource, incremental) ??
          (resource.resourceType === ConfigResourceType.topic
            ? await alterTopic(ctx, resource, incremental, validateOnly)
            : resource.resourceType === ConfigResourceType.broker
              ? checkBrokerChange(ctx, resource)
              : invalidRequest(unsupported(resource.resourceType, incremental))));
    results.push({ errorCode: KafkaError.NONE, errorMessage: null, ...refusal, resourceType: resource.resourceType, resourceName: resource.resourceName });
  }
  return results;
}

/** ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the cluster (CLUSTER_AUTHORIZATION_FAILED). */
function unauthorized(session: KafkaSession, resource: ConfigResourceChange): Refusal | undefined {
  if (resource.resourceType === ConfigResourceType.topic && !session.allows('alter-configs', 'topic', resource.resourceName)) {
    return { errorCode: KafkaError.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' };
  }
  if (resource.resourceType === ConfigResourceType.broker && !session.allows('alter-configs', 'cluster', CLUSTER_NAME)) {
    return { errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
  }
  return undefined;
}

interface Refusal {
  errorCode: number;
  errorMessage: string;
}

/** Duplicate names and missing values (only DELETE may leave its value null) make the request invalid. */
function checkRequest(resource: ConfigResourceChange, incremental: boolean): Refusal | undefined {
  const names = resource.configs.map((c) => c.name);
  if (new Set(names).size !== names.length) return invalidRequest('Error due to duplicate config keys');
  const nulls = resource.configs.filter((c) => c.value === null && !(incremental && c.configOperation === ConfigOperation.delete)).map((c) => c.name);
  if (nulls.length > 0) return invalidRequest(`Null value not supported for : ${nulls.join(', ')}`);
  return undefined;
}

/** Validated as Kafka's controller does (name, then configs, then existence), then stored: every broker applies it. */
async function alterTopic(ctx: KafkaContext, resource: ConfigResourceChange, incremental: boolean, validateOnly: boolean): Promise<Refusal | undefined> {
  const name = resource.resourceName;
  try {
    checkKafkaTopicName(name);
    const topic = ctx.visibleTopic(name);
    const next = alterTopicConfig(incremental ? (topic?.config ?? {}) : {}, ctx.brokerConfig.topics, resource.configs);
    if (!topic) return { errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The topic '${name}' does not exist.` };
    await ctx.topics.setConfig(name, next, validateOnly);
    return undefined;
  } catch (err) {
    if (!BrokerError.is(err)) ctx.logger.error({ err, topic: name }, 'altering topic configs failed');
    return { errorCode: kafkaErrorOf(err), errorMessage: (err as Error).message };
  }
}

/** The resource must name this broker (or be empty: the cluster default); deleting what was never set dynamically changes nothing. */
function checkBrokerChange(ctx: KafkaContext, resource: ConfigResourceChange): Refusal | undefined {
  const name = resource.resourceName;
  if (name !== '' && !/^-?\d+$/.test(name)) return invalidRequest(`Node id must be an integer, but it is: ${name}`);
  if (name !== '' && Number(name) !== ctx.node.nodeId) return invalidRequest(`Unexpected broker id, expected ${ctx.node.nodeId}, but received ${name}`);
  const unknown = resource.configs.find((c) => !(Object.values(ConfigOperation) as number[]).includes(c.configOperation));
  if (unknown) return invalidRequest(`Unknown operations type ${unknown.configOperation}`);
  const changed = resource.configs.filter((c) => c.configOperation !== ConfigOperation.delete).map((c) => c.name);
  if (changed.length > 0) return invalidRequest(`Cannot update these configs dynamically: Set(${changed.join(', ')})`);
  return undefined;
}

function unsupported(resourceType: number, incremental: boolean): string {
  const known: Record<number, string> = { [ConfigResourceType.brokerLogger]: 'BROKER_LOGGER', [ConfigResourceType.clientMetrics]: 'CLIENT_METRICS', [ConfigResourceType.group]: 'GROUP' };
  // Legacy AlterConfigs never took broker loggers: Kafka calls the type unknown there.
  if (known[resourceType] === undefined || (!incremental && resourceType === ConfigResourceType.brokerLogger)) return `Unknown resource type ${resourceType}`;
  return `${known[resourceType]} configs are not supported by this broker`;
}

function invalidRequest(errorMessage: string): Refusal {
  return { errorCode: KafkaError.INVALID_REQUEST, errorMessage };
}
