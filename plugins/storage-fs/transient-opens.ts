/**
 * At most `limit` short-lived descriptors at once (small files read or replaced whole, directories synced or
 * listed), so opening thousands of logs together cannot run the process out of descriptors. The rest wait
 * in line.
 */
export class TransientOpens {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
