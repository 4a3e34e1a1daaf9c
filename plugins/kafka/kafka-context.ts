import type { Clock, DiskMonitor, GroupCoordinator, Logger, OffsetStore, TopicDescriptor, TopicRegistry, BrokerConfig, ValuesOf } from '../../core/index.ts';
import type { kafkaConfigFields } from './kafka-config.ts';
import type { KafkaConnection } from './kafka-connection.ts';
import type { RequestHeader } from './codec/index.ts';
import { ProducerState } from './producer-state.ts';
import type { ProducerIds } from './producer-ids.ts';

export type KafkaSettings = ValuesOf<typeof kafkaConfigFields>;

export interface NodeAddress {
  nodeId: number;
  host: string;
  port: number;
}

/** Marks a request that gets no response (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no response');

/** A handler translates one decoded request into core calls and a response body. */
export type Handler<Req, Res> = (ctx: KafkaContext, request: Req, header: RequestHeader, connection: KafkaConnection) => Res | typeof NO_RESPONSE | Promise<Res | typeof NO_RESPONSE>;

/** What every handler may use: the core services and this broker's identity. */
export class KafkaContext {
  private readonly producerStates = new Map<string, ProducerState>();

  constructor(
    readonly settings: KafkaSettings,
    readonly brokerConfig: BrokerConfig,
    readonly topics: TopicRegistry,
    readonly coordinator: GroupCoordinator,
    readonly offsets: OffsetStore,
    readonly producerIds: ProducerIds,
    readonly clock: Clock,
    readonly logger: Logger,
    readonly clusterId: string,
    readonly node: NodeAddress,
    /** Read-only while the disk is below its free-space limit: produce answers KAFKA_STORAGE_ERROR. */
    readonly disk: DiskMonitor,
  ) {
    topics.onChange((event) => {
      if (event.type === 'deleted') for (const key of this.producerStates.keys()) if (key.startsWith(`${event.topic.name}\u0000`)) this.producerStates.delete(key);
    });
  }

  /** A topic Kafka clients may see: exists and is not some plugin's internal queue. */
  visibleTopic(name: string): TopicDescriptor | undefined {
    const topic = this.topics.get(name);
    return topic && !topic.internal ? topic : undefined;
  }

  producerState(topic: string, partition: number): ProducerState {
    const key = `${topic}\u0000${partition}`;
    let state = this.producerStates.get(key);
    if (!state) this.producerStates.set(key, (state = new ProducerState()));
    return state;
  }
}
