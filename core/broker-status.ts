export type BrokerState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Where the broker is in its lifecycle, for readiness probes and overviews. */
export class BrokerStatus {
  state: BrokerState = 'created';
  /** When start() completed (ms since the epoch). */
  startedAt: number | undefined;

  get ready(): boolean {
    return this.state === 'running';
  }
}
