import type { ApiVersionsRequest, ApiVersionsResponse } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler } from '../kafka-context.ts';
import { SUPPORTED_APIS } from '../supported-apis.ts';

/** Answers the table; a v3+ request names the client's software (KIP-511), kept for the connections view. */
export const handleApiVersions: Handler<ApiVersionsRequest, ApiVersionsResponse> = (_ctx, request, _header, connection) => {
  if (request.clientSoftwareName) connection.clientSoftware = { name: request.clientSoftwareName, version: request.clientSoftwareVersion ?? '' };
  return apiVersionsResponse(KafkaError.NONE);
};

/** The advertised table; with an error (KIP-511), only the ApiVersions range itself. */
export function apiVersionsResponse(errorCode: number): ApiVersionsResponse {
  const apis = errorCode === KafkaError.NONE ? SUPPORTED_APIS : SUPPORTED_APIS.filter((s) => s.api.name === 'ApiVersions');
  return {
    errorCode,
    apiKeys: apis.map(({ api, min, max }) => ({ apiKey: api.key, minVersion: min, maxVersion: max })),
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}
