export { AckQueue, type AckQueueOptions, type QueuedMessage } from './ack-queue.ts';
export { AckStateStore, type AckState } from './ack-state-store.ts';
export { RangeSet } from './range-set.ts';
export { BatchingAppender } from './batching-appender.ts';
export { DelayScheduler, type DelaySchedulerOptions, type DueEntry } from './delay-scheduler.ts';
export { TimerHeap } from './timer-heap.ts';
export { IntTable } from './int-table.ts';
