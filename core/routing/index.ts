export { headersMatch, sameValue, type HeadersMatch, type TypedValue } from './headers-matcher.ts';
export { TopicMatcher } from './topic-matcher.ts';
export { parseTagExpression, type TagFilter } from './tag-filter.ts';
export { compileSql92, MAX_EXPRESSION_LENGTH, type PropertyLookup, type Sql92Filter, type Sql92Value } from './sql92/compile.ts';
