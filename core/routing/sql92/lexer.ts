import { invalidFilter } from './invalid-filter.ts';

export const KEYWORDS = [
  'NOT',
  'AND',
  'OR',
  'BETWEEN',
  'IN',
  'TRUE',
  'FALSE',
  'NULL',
  'IS',
  'CONTAINS',
  'STARTSWITH',
  'ENDSWITH',
] as const;

export type Keyword = (typeof KEYWORDS)[number];
export type Punctuation = '=' | '<>' | '>' | '>=' | '<' | '<=' | '(' | ',' | ')' | '+' | '-';

export type Token =
  | { readonly type: 'keyword'; readonly keyword: Keyword; readonly at: number; readonly text: string }
  | { readonly type: 'symbol'; readonly symbol: Punctuation; readonly at: number; readonly text: string }
  | { readonly type: 'identifier' | 'decimal' | 'float'; readonly at: number; readonly text: string }
  | { readonly type: 'string'; readonly value: string; readonly at: number; readonly text: string }
  | { readonly type: 'end'; readonly at: number; readonly text: string };

const keywordByUpperCase = new Map<string, Keyword>(KEYWORDS.map((k) => [k, k]));

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isIdentifierStart = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x24;
const isIdentifierPart = (c: number): boolean => isIdentifierStart(c) || isDigit(c);
const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;

/**
 * Splits a selector into tokens with the JavaCC token rules of RocketMQ's SelectorParser.jj: longest
 * match wins, keywords are case-insensitive, identifiers are ASCII `[A-Za-z_$][A-Za-z0-9_$]*`, block
 * comments are C-style and `--` comments run to the end of the line. In RocketMQ a `--` comment with
 * no line break after it is two minus signs, which its parser then ignores as trailing input; here it
 * is a comment to the end of the expression, since trailing input is refused.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isWhitespace(c)) {
      i++;
      continue;
    }
    if (c === 0x2d && text.charCodeAt(i + 1) === 0x2d) {
      i = lineCommentEnd(text, i + 2);
      continue;
    }
    if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      const close = text.indexOf('*/', i + 2);
      if (close === -1) throw invalidFilter('unterminated /* comment', i);
      i = close + 2;
      continue;
    }
    const start = i;
    if (c === 0x27) {
      const { value, end } = stringLiteral(text, i);
      tokens.push({ type: 'string', value, at: start, text: text.slice(start, end) });
      i = end;
    } else if (isDigit(c) || c === 0x2e) {
      const { type, end } = numberLiteral(text, i);
      tokens.push({ type, at: start, text: text.slice(start, end) });
      i = end;
    } else if (isIdentifierStart(c)) {
      i++;
      while (i < n && isIdentifierPart(text.charCodeAt(i))) i++;
      const word = text.slice(start, i);
      const keyword = keywordByUpperCase.get(word.toUpperCase());
      tokens.push(keyword ? { type: 'keyword', keyword, at: start, text: word } : { type: 'identifier', at: start, text: word });
    } else {
      const symbol = symbolAt(text, i);
      if (symbol === undefined) throw invalidFilter(`unexpected character ${describeChar(text, i)}`, i);
      tokens.push({ type: 'symbol', symbol, at: start, text: symbol });
      i += symbol.length;
    }
  }
  tokens.push({ type: 'end', at: n, text: '' });
  return tokens;
}

/** Where a `--` comment whose body starts at `from` ends: after its line break, or at the end of the text. */
function lineCommentEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) return i + 1;
    if (c === 0x0d) return text.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
  }
  return text.length;
}

function stringLiteral(text: string, start: number): { value: string; end: number } {
  let value = '';
  let chunk = start + 1;
  for (let i = start + 1; i < text.length; i++) {
    if (text.charCodeAt(i) !== 0x27) continue;
    value += text.slice(chunk, i);
    if (text.charCodeAt(i + 1) !== 0x27) return { value, end: i + 1 };
    value += "'";
    i++;
    chunk = i + 1;
  }
  throw invalidFilter('unterminated string literal', start);
}

function digitsEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  return i;
}

/** The end of an exponent (`e`, optional sign, digits) starting at `from`, or `from` if there is none. */
function exponentEnd(text: string, from: number): number {
  const c = text.charCodeAt(from);
  if (c !== 0x65 && c !== 0x45) return from;
  let i = from + 1;
  const sign = text.charCodeAt(i);
  if (sign === 0x2b || sign === 0x2d) i++;
  const end = digitsEnd(text, i);
  return end > i ? end : from;
}

/** DECIMAL_LITERAL (`0` or `[1-9][0-9]*` with an optional `L`) or FLOATING_POINT_LITERAL, longest first. */
function numberLiteral(text: string, start: number): { type: 'decimal' | 'float'; end: number } {
  if (text.charCodeAt(start) === 0x2e) {
    const fractionEnd = digitsEnd(text, start + 1);
    if (fractionEnd === start + 1) throw invalidFilter("unexpected character '.'", start);
    return { type: 'float', end: exponentEnd(text, fractionEnd) };
  }
  const integerEnd = digitsEnd(text, start);
  let floatEnd = start;
  if (text.charCodeAt(integerEnd) === 0x2e) floatEnd = exponentEnd(text, digitsEnd(text, integerEnd + 1));
  else if (exponentEnd(text, integerEnd) > integerEnd) floatEnd = exponentEnd(text, integerEnd);
  let decimalEnd = start + 1;
  if (text.charCodeAt(start) !== 0x30) {
    decimalEnd = integerEnd;
    const suffix = text.charCodeAt(integerEnd);
    if (suffix === 0x6c || suffix === 0x4c) decimalEnd++;
  }
  return floatEnd > decimalEnd ? { type: 'float', end: floatEnd } : { type: 'decimal', end: decimalEnd };
}

const SYMBOLS: readonly Punctuation[] = ['<>', '>=', '<=', '=', '>', '<', '(', ',', ')', '+', '-'];

function symbolAt(text: string, i: number): Punctuation | undefined {
  return SYMBOLS.find((s) => text.startsWith(s, i));
}

function describeChar(text: string, i: number): string {
  const code = text.codePointAt(i)!;
  return code >= 0x21 && code <= 0x7e ? `'${String.fromCodePoint(code)}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
