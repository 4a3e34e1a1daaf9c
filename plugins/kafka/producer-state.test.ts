import { describe, expect, it } from 'vitest';
import { KafkaError } from './error-codes.ts';
import { ProducerState } from './producer-state.ts';

const batch = (baseSequence: number, records = 1, producerEpoch = 0, producerId = 7) => ({ producerId, producerEpoch, baseSequence, lastOffsetDelta: records - 1 });

describe('ProducerState', () => {
  it('accepts in-order sequences and answers a retried batch with its original offsets', () => {
    const state = new ProducerState();
    expect(state.check(batch(0, 3))).toEqual({ kind: 'append' });
    state.record(batch(0, 3), 100, -1);
    state.record(batch(3, 2), 103, -1);
    expect(state.check(batch(0, 3))).toEqual({ kind: 'duplicate', baseOffset: 100, logAppendTime: -1 });
    expect(state.check(batch(3, 2))).toEqual({ kind: 'duplicate', baseOffset: 103, logAppendTime: -1 });
    expect(state.check(batch(5))).toEqual({ kind: 'append' });
    expect(state.check(batch(7))).toEqual({ kind: 'error', error: KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it('keeps five batches, fences old epochs, and restarts sequences on a new epoch', () => {
    const state = new ProducerState();
    for (let i = 0; i < 7; i++) state.record(batch(i), i, -1);
    expect(state.check(batch(1)).kind).toBe('error');
    expect(state.check(batch(2))).toEqual({ kind: 'duplicate', baseOffset: 2, logAppendTime: -1 });
    expect(state.check(batch(0, 1, 1))).toEqual({ kind: 'append' });
    expect(state.check(batch(3, 1, 1))).toEqual({ kind: 'error', error: KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER });
    state.record(batch(0, 1, 1), 10, -1);
    expect(state.check(batch(7, 1, 0))).toEqual({ kind: 'error', error: KafkaError.INVALID_PRODUCER_EPOCH });
  });

  it('wraps sequences at INT32_MAX and ignores non-idempotent batches', () => {
    const state = new ProducerState();
    state.record(batch(2 ** 31 - 2, 2), 0, -1);
    expect(state.check(batch(0))).toEqual({ kind: 'append' });
    expect(state.check({ producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 0 })).toEqual({ kind: 'append' });
  });
});
