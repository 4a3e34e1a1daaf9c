import type { Clock, DiskMonitor, GroupCoordinator, Logger, OffsetStore, TopicDescriptor, TopicRegistry, BrokerConfig, ValuesOf } from '../../core/index.ts';
import type { kafkaConfigFields } from './kafka-config.ts';
import type { CLOSE_CONNECTION, KafkaConnection } from './kafka-connection.ts';
import type { RequestHeader } from './codec/index.ts';
import type { ProducerIds } from './producer-ids.ts';

export type KafkaSettings = ValuesOf<typeof kafkaConfigFields>;

export interface NodeAddress {
  nodeId: number;
  host: string;
  port: number;
}

/** Marks a request that gets no response (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no response');

/** Marks a request answered by closing the connection once the replies before it are written (a refused acks=0 Produce). */
export { CLOSE_CONNECTION } from './kafka-connection.ts';

type Outcome<Res> = Res | typeof NO_RESPONSE | typeof CLOSE_CONNECTION;

/** A handler translates one decoded request into core calls and a response body. */
export type Handler<Req, Res> = (ctx: KafkaContext, request: Req, header: RequestHeader, connection: KafkaConnection) => Outcome<Res> | Promise<Outcome<Res>>;

/** What every handler may use: the core services and this broker's identity. */
export class KafkaContext {
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
  ) {}

  /** A topic Kafka clients may see: exists and is not some plugin's internal queue. */
  visibleTopic(name: string): TopicDescriptor | undefined {
    const topic = this.topics.get(name);
    return topic && !topic.internal ? topic : undefined;
  }
}
