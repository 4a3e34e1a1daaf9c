import { BrokerError } from '../../errors.ts';

export type TokenKind = 'string' | 'number' | 'identifier' | 'keyword' | 'symbol' | 'end';

export interface Token {
  kind: TokenKind;
  /** Keywords upper-cased; strings unescaped; numbers as text. */
  text: string;
  position: number;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE', 'CONTAINS', 'STARTSWITH', 'ENDSWITH']);
const SYMBOLS = ['<>', '>=', '<=', '=', '>', '<', '(', ')', ',', '+', '-'];
const NUMBER = /^(?:0[xX][0-9a-fA-F]+[lL]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[lLdDfF]?)/;
const IDENTIFIER = /^[a-zA-Z_$][a-zA-Z0-9_$.]*/;

export function syntaxError(message: string, position: number): BrokerError {
  return new BrokerError('INVALID_FILTER', `SQL92 filter: ${message} at position ${position + 1}`);
}

/** Splits an SQL92 selector into tokens, the last one `end`. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const c = source[at]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      at++;
      continue;
    }
    const rest = source.slice(at, at + 64);
    if (c === "'") {
      let text = '';
      let i = at + 1;
      for (;;) {
        if (i >= source.length) throw syntaxError('unterminated string literal', at);
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          break;
        }
        text += source[i++];
      }
      tokens.push({ kind: 'string', text, position: at });
      at = i + 1;
      continue;
    }
    const number = /[0-9.]/.test(c) ? NUMBER.exec(source.slice(at, at + 400)) : null;
    if (number) {
      tokens.push({ kind: 'number', text: number[0], position: at });
      at += number[0].length;
      continue;
    }
    const identifier = IDENTIFIER.exec(source.slice(at, at + 1024));
    if (identifier) {
      const upper = identifier[0].toUpperCase();
      tokens.push(KEYWORDS.has(upper) ? { kind: 'keyword', text: upper, position: at } : { kind: 'identifier', text: identifier[0], position: at });
      at += identifier[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((s) => rest.startsWith(s));
    if (!symbol) throw syntaxError(`unexpected character ${JSON.stringify(c)}`, at);
    tokens.push({ kind: 'symbol', text: symbol, position: at });
    at += symbol.length;
  }
  tokens.push({ kind: 'end', text: '', position: source.length });
  return tokens;
}
