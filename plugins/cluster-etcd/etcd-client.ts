import type { Metadata } from '@grpc/grpc-js';
import { ConstantBackoff, handleWhen, noop, retry } from 'cockatiel';
import { Etcd3, GRPCUnavailableError, type IDuplexStream, type IWatchRequest, type IWatchResponse } from 'etcd3';

export interface EtcdClientOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /** How long one unary call (or one keepalive round trip) may take before it fails. */
  readonly requestTimeoutMs: number;
}

/**
 * The etcd3 client, configured for a cluster that must notice etcd's absence promptly:
 * - every unary call has a deadline, so a call to a dead or stalled etcd fails instead of hanging
 *   (a call that timed out may still apply later, when a stalled etcd wakes up);
 * - a call is retried on the other endpoints (once with a single one) after UNAVAILABLE, i.e. a
 *   refused or reset connection, never after a deadline; a retried transaction may report failure
 *   although its first attempt applied (the seam allows both: callers re-read);
 * - no circuit breaker (the library's default one fails every call for 5 s after three failures):
 *   the first call after etcd returns goes through;
 * - gRPC keepalive pings every 10 s (etcd's --grpc-keepalive-min-time is 5 s), only while a stream is
 *   open (etcd counts pings without streams as abuse): a dead connection under a watch is found in ~15 s.
 */
export class EtcdClient extends Etcd3 {
  constructor(options: EtcdClientOptions) {
    super({
      hosts: [...options.endpoints],
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + options.requestTimeoutMs }),
      faultHandling: {
        host: () => noop,
        global: retry(
          handleWhen((err) => err instanceof GRPCUnavailableError),
          { maxAttempts: Math.max(1, options.endpoints.length - 1), backoff: new ConstantBackoff(50) },
        ),
      },
      grpcOptions: {
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.keepalive_permit_without_calls': 0,
        // gRPC's reconnect backoff grows to 2 minutes: a broker would stay away that long after a long etcd outage ends.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.max_receive_message_length': 256 * 1024 * 1024,
      },
    });
  }

  /**
   * A raw Watch stream (the library's watcher resumes from the revision in a response header, which
   * during catch-up is the store's current revision, not the last event's, so it can skip events).
   * `hasleader` makes etcd end the stream when its member loses the raft leader, instead of letting
   * the watch go silent on a partitioned member.
   */
  openWatchStream(): Promise<IDuplexStream<IWatchRequest, IWatchResponse>> {
    return this.pool.withConnection('Watch', ({ client, metadata }) => {
      const md: Metadata = metadata.clone();
      md.set('hasleader', 'true');
      return (client as unknown as { watch(md: Metadata): IDuplexStream<IWatchRequest, IWatchResponse> }).watch(md);
    });
  }
}
