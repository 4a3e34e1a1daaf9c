import type { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from '../codec/index.ts';
import { alterConfigResources } from '../config-alteration.ts';
import type { Handler } from '../kafka-context.ts';

/** SET, DELETE, APPEND and SUBTRACT on topic configs; other configs stay as they are. */
export const handleIncrementalAlterConfigs: Handler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse> = async (ctx, request, _header, connection) => ({
  throttleTimeMs: 0,
  responses: await alterConfigResources(ctx, connection.session, request.resources, true, request.validateOnly),
});
