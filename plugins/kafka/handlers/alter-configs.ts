import type { AlterConfigsRequest, AlterConfigsResponse } from '../codec/index.ts';
import { alterConfigResources } from '../config-alteration.ts';
import type { Handler } from '../kafka-context.ts';
import { ConfigOperation } from '../topic-configs.ts';

/** Legacy AlterConfigs: each topic's overrides become exactly the configs given (the others return to their defaults). */
export const handleAlterConfigs: Handler<AlterConfigsRequest, AlterConfigsResponse> = async (ctx, request, _header, connection) => ({
  throttleTimeMs: 0,
  responses: await alterConfigResources(
    ctx,
    connection.session,
    request.resources.map((r) => ({ ...r, configs: r.configs.map((c) => ({ ...c, configOperation: ConfigOperation.set })) })),
    false,
    request.validateOnly,
  ),
});
