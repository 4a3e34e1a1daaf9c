/** A RocketMQ tag subscription: `*` (or blank) matches everything, `A || B` matches exactly those tags. */
export interface TagFilter {
  readonly all: boolean;
  readonly tags: ReadonlySet<string>;
  matches(tag: string | undefined): boolean;
}

export function parseTagExpression(expression: string): TagFilter {
  const trimmed = expression.trim();
  if (trimmed === '' || trimmed === '*') return { all: true, tags: new Set(), matches: () => true };
  const tags = new Set(trimmed.split('||').map((t) => t.trim()).filter((t) => t !== ''));
  if (tags.size === 0 || tags.has('*')) return { all: true, tags: new Set(), matches: () => true };
  return { all: false, tags, matches: (tag) => tag !== undefined && tags.has(tag) };
}
