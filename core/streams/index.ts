export { isAmqpString, Section, skipAmqpValue } from './amqp10.ts';
export { gzipBatch, StreamBatchBuilder } from './stream-batch-builder.ts';
export { StreamEntryEncoder } from './stream-entry-encoder.ts';
export { HEADER as STREAM_HEADERS, isReservedName, nameIs } from './stream-headers.ts';
export { checkStreamName, parseMaxAge, STREAM_ATTRIBUTE, streamOfTopic, streamTopic, streamTopicConfig, type StreamArguments, type StreamAttributes } from './stream-topics.ts';
export { isAbortedBatch, readCommitted, type CommittedRead } from './committed-read.ts';
export { batchMatchesFilter, streamFilter, type StreamFilter } from './stream-filter.ts';
