import { createRequire } from 'node:module';
import path from 'node:path';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * apache.rocketmq.v2.MessagingService, loaded at start from the .proto files rocketmq-client-nodejs ships
 * (they are not copied here). Messages are plain objects: camelCase fields, enums as names, int64 as numbers.
 */
export function loadMessagingService(): ServiceDefinition {
  const require = createRequire(import.meta.url);
  const protoRoot = path.join(path.dirname(require.resolve('rocketmq-client-nodejs/package.json')), 'proto');
  const definition = loadSync('apache/rocketmq/v2/service.proto', {
    includeDirs: [protoRoot],
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: false,
    arrays: true,
    oneofs: true,
  });
  const root = loadPackageDefinition(definition) as unknown as { apache: { rocketmq: { v2: { MessagingService: { service: ServiceDefinition } } } } };
  return root.apache.rocketmq.v2.MessagingService.service;
}
