import { credentials, makeGenericClientConstructor, Metadata, type Client, type ServiceDefinition } from '@grpc/grpc-js';
import { loadMessagingService } from '../../plugins/rocket/proto.ts';

type Unary = (request: object, metadata: Metadata, callback: (err: Error | null, response: Record<string, unknown>) => void) => void;

/** A bare MessagingService client: sends exactly what a test builds, with or without a client id. */
export function rawRocketClient(endpoints: string) {
  const service: ServiceDefinition = loadMessagingService();
  const Constructor = makeGenericClientConstructor(service, 'MessagingService');
  const client = new Constructor(endpoints, credentials.createInsecure()) as Client & Record<string, Unary>;
  const metadata = (clientId: string | undefined, headers: Record<string, string | string[]> = {}) => {
    const m = new Metadata();
    if (clientId) m.set('x-mq-client-id', clientId);
    for (const [key, value] of Object.entries(headers)) for (const v of [value].flat()) m.add(key, v);
    return m;
  };
  return {
    /** `headers` adds metadata (each value of an array as its own entry). */
    unary(method: string, request: object, clientId = 'raw-client', headers?: Record<string, string | string[]>): Promise<Record<string, unknown>> {
      return new Promise((resolve, reject) => client[method]!(request, metadata(clientId, headers), (err, response) => (err ? reject(err) : resolve(response))));
    },
    stream(method: string, request: object, clientId = 'raw-client', headers?: Record<string, string | string[]>): Promise<Array<Record<string, unknown>>> {
      return new Promise((resolve, reject) => {
        const responses: Array<Record<string, unknown>> = [];
        const call = (client[method] as unknown as (r: object, m: Metadata) => NodeJS.EventEmitter)(request, metadata(clientId, headers));
        call.on('data', (r: Record<string, unknown>) => responses.push(r));
        call.on('end', () => resolve(responses));
        call.on('error', reject);
      });
    },
    /** Sends `bytes` as the request body of `method`, bypassing the protobuf encoder. */
    rawBytes(method: string, bytes: Buffer): Promise<unknown> {
      const path = `/apache.rocketmq.v2.MessagingService/${method}`;
      return new Promise((resolve) =>
        client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, metadata('raw-client'), (err, value) => resolve(err ?? value)),
      );
    },
    close: () => client.close(),
  };
}
