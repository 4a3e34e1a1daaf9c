import type { Logger, TxnMarkerChannel } from '../../../core/index.ts';
import { KafkaError, type KafkaErrorCode } from '../error-codes.ts';

interface Batch {
  readonly partitions: Array<{ topic: string; partition: number }>;
  readonly answers: Array<(errorCode: KafkaErrorCode) => void>;
}

/**
 * The leader's questions to a transaction coordinator on a peer, gathered as Kafka's
 * AddPartitionsToTxnManager gathers them: the partitions one turn asks about for the same producer (a
 * Produce request's first batches) go in one verify frame, one round trip. A peer that cannot be reached
 * answers NETWORK_EXCEPTION for each.
 */
export class VerificationBatches {
  private readonly waiting = new Map<string, Batch>();

  constructor(
    private readonly markers: TxnMarkerChannel,
    private readonly logger: Logger,
  ) {}

  ask(nodeId: number, transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): Promise<KafkaErrorCode> {
    const key = `${nodeId}\u0000${producerId}\u0000${producerEpoch}\u0000${transactionalId}`;
    let batch = this.waiting.get(key);
    if (batch === undefined) {
      const gathered: Batch = { partitions: [], answers: [] };
      this.waiting.set(key, (batch = gathered));
      queueMicrotask(() => {
        this.waiting.delete(key);
        void this.send(nodeId, { transactionalId, producerId, producerEpoch, partitions: gathered.partitions }, gathered.answers);
      });
    }
    batch.partitions.push({ topic, partition });
    return new Promise((resolve) => batch.answers.push(resolve));
  }

  private async send(nodeId: number, request: Parameters<TxnMarkerChannel['verify']>[1], answers: Batch['answers']): Promise<void> {
    try {
      const { errors } = await this.markers.verify(nodeId, request);
      answers.forEach((answer, i) => answer(errors[i] as KafkaErrorCode));
    } catch (err) {
      this.logger.debug({ err, transactionalId: request.transactionalId, coordinator: nodeId }, 'verifying a transaction with its coordinator failed');
      for (const answer of answers) answer(KafkaError.NETWORK_EXCEPTION);
    }
  }
}
