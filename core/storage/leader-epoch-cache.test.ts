import { describe, expect, it } from 'vitest';
import { LeaderEpochCache } from './leader-epoch-cache.ts';

describe('LeaderEpochCache', () => {
  it('answers where an epoch ends: the next epoch\'s start, or the log end for the latest', () => {
    const cache = new LeaderEpochCache();
    cache.assign(0, 0);
    cache.assign(2, 100);
    cache.assign(5, 250);
    expect(cache.endOffsetFor(0, 300)).toEqual({ epoch: 0, endOffset: 100 });
    expect(cache.endOffsetFor(1, 300)).toEqual({ epoch: 0, endOffset: 100 });
    expect(cache.endOffsetFor(2, 300)).toEqual({ epoch: 2, endOffset: 250 });
    expect(cache.endOffsetFor(7, 300)).toEqual({ epoch: 5, endOffset: 300 });
    expect(new LeaderEpochCache().endOffsetFor(3, 10)).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('answers OffsetForLeaderEpoch as Kafka\'s LeaderEpochFileCache.endOffsetFor: undefined above the latest epoch, the requested epoch below the first', () => {
    const cache = new LeaderEpochCache([{ epoch: 2, startOffset: 10 }, { epoch: 4, startOffset: 100 }, { epoch: 7, startOffset: 250 }]);
    expect(cache.requestedEndOffset(7, 300)).toEqual({ epoch: 7, endOffset: 300 });
    expect(cache.requestedEndOffset(4, 300)).toEqual({ epoch: 4, endOffset: 250 });
    expect(cache.requestedEndOffset(5, 300)).toEqual({ epoch: 4, endOffset: 250 });
    expect(cache.requestedEndOffset(1, 300)).toEqual({ epoch: 1, endOffset: 10 });
    expect(cache.requestedEndOffset(8, 300)).toEqual({ epoch: -1, endOffset: -1 });
    expect(cache.requestedEndOffset(-1, 300)).toEqual({ epoch: -1, endOffset: -1 });
    expect(new LeaderEpochCache().requestedEndOffset(0, 10)).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('ignores an epoch that is not newer, and drops later entries a lower start offset contradicts', () => {
    const cache = new LeaderEpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 50 }]);
    expect(cache.assign(3, 60)).toBe(false);
    expect(cache.assign(2, 70)).toBe(false);
    expect(cache.assign(4, 40)).toBe(true);
    expect(cache.all).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 40 }]);
  });

  it('truncates from the end and from the start, and survives its encoding', () => {
    const cache = new LeaderEpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }, { epoch: 4, startOffset: 20 }]);
    expect(cache.truncateFromEnd(20)).toBe(true);
    expect(cache.latestEpoch).toBe(2);
    expect(cache.truncateFromStart(15)).toBe(true);
    expect(cache.all).toEqual([{ epoch: 2, startOffset: 15 }]);
    expect(LeaderEpochCache.decode(cache.encode()).all).toEqual(cache.all);
    expect(LeaderEpochCache.decode(Buffer.from('garbage')).all).toEqual([]);
  });
});
