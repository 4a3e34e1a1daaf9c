export { apisByKey, ApiKeys, type ApiCodec } from './api-table.ts';
export { decodeRequest, decodeResponse, encodeRequest, encodeResponse, isFlexible, parseRequestHeader, type RequestHeader } from './frames.ts';
export { Reader } from './reader.ts';
export { Writer } from './writer.ts';
export * from './generated/index.ts';
