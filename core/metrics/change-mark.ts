/** Ticks once per touch of any mark: every render and every change get a time on one line. */
let clock = 0;

/**
 * Stands for some state that metrics are rendered from (a topic's logs, a group's committed offsets):
 * every change of that state touches it. A block of series rendered at `ChangeMark.now()` is still
 * right while none of the marks it was read under has been touched since, so a scrape writes its lines
 * again without reading the state. A new mark counts as a change.
 */
export class ChangeMark {
  private touchedAt = ++clock;

  touch(): void {
    this.touchedAt = ++clock;
  }

  /** The last touch of this mark, on the clock of `now()`. */
  get changedAt(): number {
    return this.touchedAt;
  }

  /** The latest touch of any mark. */
  static now(): number {
    return clock;
  }
}
