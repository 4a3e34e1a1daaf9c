export * from './generated/methods.ts';
export { AmqpReader } from './amqp-reader.ts';
export { AmqpWriter } from './amqp-writer.ts';
export { decodeTable, field, fieldInteger, fieldText, tableSize, writeTable, type FieldTable, type FieldValue } from './field-table.ts';
export {
  BASIC_CLASS,
  contentFrames,
  encodePropertiesBytes,
  FRAME_END,
  FRAME_OVERHEAD,
  FrameParser,
  FrameType,
  HEARTBEAT_FRAME,
  isProtocolHeader,
  methodFrame,
  parseContentHeader,
  parseMethod,
  PROTOCOL_HEADER,
  writeDeliver,
  type ContentHeader,
  type Frame,
  type FrameSink,
} from './frames.ts';
export { isBasicPublish, PropertiesDecoder, PublishDecoder, type DecodedPublish } from './repeat-decoders.ts';
