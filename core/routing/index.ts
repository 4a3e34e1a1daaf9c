export { headersMatch, sameValue, type HeadersMatch, type TypedValue } from './headers-matcher.ts';
export { TopicMatcher } from './topic-matcher.ts';
