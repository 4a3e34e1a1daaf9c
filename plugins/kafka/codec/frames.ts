import { BrokerError, malformed } from '../../../core/index.ts';
import { apisByKey, ApiKeys, type ApiCodec } from './api-table.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** Where the body starts in the frame. */
  bodyOffset: number;
}

/** Request header v2 (flexible) when the API version is flexible, else v1. ApiVersions responses always use header v0. */
export function isFlexible(api: ApiCodec | undefined, version: number): boolean {
  return api !== undefined && api.request.versions.firstFlexible >= 0 && version >= api.request.versions.firstFlexible;
}

/** Reads the request header of a frame (the frame's size prefix already removed). */
export function parseRequestHeader(frame: Buffer): RequestHeader {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  if (isFlexible(apisByKey.get(apiKey), apiVersion)) r.taggedFields(() => false);
  return { apiKey, apiVersion, correlationId, clientId, bodyOffset: r.offset };
}

/** Decodes a request body; UNSUPPORTED_VERSION for an unknown api or version, MALFORMED_INPUT for bad bytes or trailing bytes. */
export function decodeRequest(header: RequestHeader, frame: Buffer): unknown {
  const api = apisByKey.get(header.apiKey);
  if (!api) throw new BrokerError('UNSUPPORTED_VERSION', `unknown api key ${header.apiKey}`);
  const { min, max } = api.request.versions;
  if (header.apiVersion < min || header.apiVersion > max) throw new BrokerError('UNSUPPORTED_VERSION', `${api.name} v${header.apiVersion} is not supported`);
  const r = new Reader(frame, header.bodyOffset);
  const body = api.request.decode(r, header.apiVersion);
  if (r.remaining !== 0) throw malformed(`${r.remaining} bytes after the ${api.name} request`);
  return body;
}

/** A whole response frame, size prefix included, as chunks; record buffers are chunks of their own. */
export function encodeResponse<T>(api: ApiCodec<unknown, T>, version: number, correlationId: number, body: T): Buffer[] {
  const flexibleHeader = api.key !== ApiKeys.ApiVersions.key && isFlexible(api as ApiCodec, version);
  return Writer.framed((w) => {
    w.int32(correlationId);
    if (flexibleHeader) w.uvarint(0);
    api.response.encode(w, version, body);
  });
}

/** The client side, for tests and benchmarks: a request frame, size prefix included. */
export function encodeRequest<T>(api: ApiCodec<T, unknown>, version: number, correlationId: number, clientId: string | null, body: T): Buffer[] {
  return Writer.framed((w) => {
    w.int16(api.key);
    w.int16(version);
    w.int32(correlationId);
    w.nullableString(clientId);
    if (isFlexible(api as ApiCodec, version)) w.uvarint(0);
    api.request.encode(w, version, body);
  });
}

/** The client side: decodes a response frame (size prefix removed). */
export function decodeResponse<T>(api: ApiCodec<unknown, T>, version: number, frame: Buffer): { correlationId: number; body: T } {
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (api.key !== ApiKeys.ApiVersions.key && isFlexible(api as ApiCodec, version)) r.taggedFields(() => false);
  const body = api.response.decode(r, version);
  if (r.remaining !== 0) throw malformed(`${r.remaining} bytes after the ${api.name} response`);
  return { correlationId, body };
}
