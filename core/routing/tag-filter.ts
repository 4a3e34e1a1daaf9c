/** A RocketMQ tag subscription, compiled. */
export interface TagFilter {
  /** True for `*`, an empty expression, or one with no non-blank tags: every message matches. */
  readonly matchesAll: boolean;
  /** The subscribed tags; empty when `matchesAll`. */
  readonly tags: ReadonlySet<string>;
  /** Whether a message carrying `tag` (undefined: no tag) is delivered to the subscription. */
  matches(tag: string | undefined): boolean;
}

const MATCH_ALL: TagFilter = { matchesAll: true, tags: new Set(), matches: () => true };

/** Java's String.trim: strips code units up to U+0020 from both ends, and nothing else. */
function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return text.slice(start, end);
}

/**
 * Parses a tag subscription the way RocketMQ's FilterAPI and the proxy do: exactly `*` or an empty
 * string subscribes to everything; otherwise the expression is split on `||`, each part trimmed and
 * blank parts dropped. A subscription left with no tags (e.g. `" || "`) also matches everything, and
 * a message without a tag matches only those match-all subscriptions. `" * "` is not `*`: it
 * subscribes to the literal tag `*`, as in RocketMQ.
 */
export function parseTagExpression(expr: string): TagFilter {
  if (expr === '' || expr === '*') return MATCH_ALL;
  const tags = new Set<string>();
  for (const part of expr.split('||')) {
    const tag = javaTrim(part);
    if (tag !== '') tags.add(tag);
  }
  if (tags.size === 0) return MATCH_ALL;
  return { matchesAll: false, tags, matches: (tag) => tag !== undefined && tags.has(tag) };
}
