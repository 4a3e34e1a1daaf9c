export { equalValues, headersMatch, type HeadersMatch, type TypedValue } from './headers-matcher.ts';
export { TopicMatcher } from './topic-matcher.ts';
export { compileSql92, SQL92_MAX_DEPTH, SQL92_MAX_LENGTH, type PropertyLookup, type Sql92Filter } from './sql92-filter.ts';
export { parseTagExpression, type TagFilter } from './tag-filter.ts';
