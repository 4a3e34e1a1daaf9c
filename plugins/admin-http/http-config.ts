import { field, type ValuesOf } from '../../core/index.ts';

export const httpConfigFields = {
  port: field.port(15672, 'admin HTTP port: the RabbitMQ-compatible management API, Wharf\'s /api/wharf, /metrics, health probes; 0 disables it'),
  maxBodyBytes: field.integer(20_000_000, 'largest request body accepted (definitions imports are the large ones)', { min: 1024 }),
  requestTimeoutMs: field.integer(30_000, 'a request must arrive completely within this time', { min: 100 }),
  maxConnections: field.integer(1000, 'HTTP connections accepted at once', { min: 1 }),
} as const;

export type HttpSettings = ValuesOf<typeof httpConfigFields>;
