import { BrokerError } from '../../errors.ts';
import { syntaxError, tokenize, type Token } from './lexer.ts';

export type Sql92Value = string | number | boolean | null;
/** A message's properties by name; undefined when absent. */
export type PropertyLookup = (name: string) => string | undefined;

type Eval = (props: PropertyLookup) => Sql92Value;

interface Node {
  boolean: boolean;
  eval: Eval;
  /** Set for literals: their value, known at compile time. */
  constant?: { value: Sql92Value };
}

export interface Sql92Filter {
  readonly expression: string;
  /** True only when the selector evaluates to TRUE (UNKNOWN and FALSE do not match). */
  matches(props: PropertyLookup): boolean;
}

export const MAX_EXPRESSION_LENGTH = 64 * 1024;
const MAX_DEPTH = 200;

/** Raised inside evaluation when operands cannot be compared; the message then does not match. */
const INCOMPARABLE = Symbol('incomparable');

/**
 * Compiles a RocketMQ SQL92 property selector (the JMS selector grammar RocketMQ uses, with CONTAINS,
 * STARTSWITH and ENDSWITH) to closures. Three-valued logic: anything compared with a missing property is
 * UNKNOWN; the filter matches only TRUE. Syntax errors throw INVALID_FILTER naming the position.
 */
export function compileSql92(expression: string): Sql92Filter {
  if (expression.length > MAX_EXPRESSION_LENGTH) throw new BrokerError('INVALID_FILTER', `SQL92 filter longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const root = new Parser(tokenize(expression)).selector();
  return {
    expression,
    matches(props) {
      try {
        return root.eval(props) === true;
      } catch (err) {
        if (err === INCOMPARABLE) return false;
        throw err;
      }
    },
  };
}

class Parser {
  private at = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  selector(): Node {
    const node = this.or();
    const next = this.peek();
    if (next.kind !== 'end') throw syntaxError(`unexpected ${describe(next)}`, next.position);
    return this.asBoolean(node, 0);
  }

  private or(): Node {
    let left = this.and();
    while (this.acceptKeyword('OR')) {
      const position = this.previous().position;
      const a = this.asBoolean(left, position).eval;
      const b = this.asBoolean(this.and(), position).eval;
      left = { boolean: true, eval: (p) => or(a(p), b, p) };
    }
    return left;
  }

  private and(): Node {
    let left = this.equality();
    while (this.acceptKeyword('AND')) {
      const position = this.previous().position;
      const a = this.asBoolean(left, position).eval;
      const b = this.asBoolean(this.equality(), position).eval;
      left = { boolean: true, eval: (p) => and(a(p), b, p) };
    }
    return left;
  }

  private equality(): Node {
    let left = this.comparison();
    for (;;) {
      if (this.acceptSymbol('=') || this.acceptSymbol('<>')) {
        const negate = this.previous().text === '<>';
        const a = left.eval;
        const b = this.comparison().eval;
        left = { boolean: true, eval: negate ? (p) => not(equal(a(p), b(p))) : (p) => equal(a(p), b(p)) };
      } else if (this.acceptKeyword('IS')) {
        const negate = this.acceptKeyword('NOT');
        this.expectKeyword('NULL');
        const a = left.eval;
        left = { boolean: true, eval: negate ? (p) => a(p) !== null : (p) => a(p) === null };
      } else return left;
    }
  }

  private comparison(): Node {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (token.kind === 'symbol' && (token.text === '>' || token.text === '>=' || token.text === '<' || token.text === '<=')) {
        this.at++;
        const right = this.unary();
        this.checkOrderable(left, token);
        this.checkOrderable(right, token);
        const a = left.eval;
        const b = right.eval;
        const test = ORDERINGS[token.text as keyof typeof ORDERINGS];
        left = { boolean: true, eval: (p) => ordered(a(p), b(p), test) };
        continue;
      }
      const mark = this.at;
      const negate = this.acceptKeyword('NOT');
      if (this.acceptKeyword('BETWEEN')) {
        const low = this.unary();
        this.expectKeyword('AND');
        const high = this.unary();
        for (const node of [left, low, high]) this.checkOrderable(node, token);
        const [a, l, h] = [left.eval, low.eval, high.eval];
        const between: Eval = (p) => {
          const value = a(p);
          return and(ordered(value, l(p), ORDERINGS['>=']), (q) => ordered(value, h(q), ORDERINGS['<=']), p);
        };
        left = { boolean: true, eval: negate ? (p) => not(between(p)) : between };
      } else if (this.acceptKeyword('IN')) {
        this.expectSymbol('(');
        const values = new Set<string>([this.expectString()]);
        while (this.acceptSymbol(',')) values.add(this.expectString());
        this.expectSymbol(')');
        const a = left.eval;
        const inList: Eval = (p) => {
          const value = a(p);
          return value === null ? null : typeof value === 'string' ? values.has(value) : false;
        };
        left = { boolean: true, eval: negate ? (p) => not(inList(p)) : inList };
      } else if (this.acceptKeyword('CONTAINS') || this.acceptKeyword('STARTSWITH') || this.acceptKeyword('ENDSWITH')) {
        const operator = this.previous().text;
        const needle = this.expectString();
        const a = left.eval;
        const test = operator === 'CONTAINS' ? (s: string) => s.includes(needle) : operator === 'STARTSWITH' ? (s: string) => s.startsWith(needle) : (s: string) => s.endsWith(needle);
        const found: Eval = (p) => {
          const value = a(p);
          return value === null ? null : typeof value === 'string' ? test(value) : false;
        };
        left = { boolean: true, eval: negate ? (p) => not(found(p)) : found };
      } else {
        this.at = mark;
        return left;
      }
    }
  }

  private unary(): Node {
    if (++this.depth > MAX_DEPTH) throw syntaxError(`nesting deeper than ${MAX_DEPTH}`, this.peek().position);
    try {
      if (this.acceptSymbol('+')) return this.numeric(this.unary(), 1);
      if (this.acceptSymbol('-')) return this.numeric(this.unary(), -1);
      if (this.acceptKeyword('NOT')) {
        const operand = this.asBoolean(this.unary(), this.previous().position).eval;
        return { boolean: true, eval: (p) => not(operand(p)) };
      }
      return this.primary();
    } finally {
      this.depth--;
    }
  }

  private primary(): Node {
    const token = this.next();
    switch (token.kind) {
      case 'string':
        return constant(token.text);
      case 'number':
        return constant(parseNumber(token));
      case 'identifier': {
        const name = token.text;
        return { boolean: false, eval: (p) => p(name) ?? null };
      }
      case 'keyword':
        if (token.text === 'TRUE') return { ...constant(true), boolean: true };
        if (token.text === 'FALSE') return { ...constant(false), boolean: true };
        if (token.text === 'NULL') return constant(null);
        break;
      case 'symbol':
        if (token.text === '(') {
          const inner = this.or();
          this.expectSymbol(')');
          return inner;
        }
        break;
    }
    throw syntaxError(`unexpected ${describe(token)}`, token.position);
  }

  private numeric(node: Node, sign: 1 | -1): Node {
    if (node.constant) {
      const value = node.constant.value;
      if (typeof value !== 'number') throw syntaxError('unary + or - needs a number', this.previous().position);
      return constant(sign * value);
    }
    if (node.boolean) throw syntaxError('unary + or - needs a number', this.previous().position);
    const a = node.eval;
    return { boolean: false, eval: (p) => {
      const value = a(p);
      return value === null ? null : sign * toNumber(value);
    } };
  }

  private checkOrderable(node: Node, at: Token): void {
    if (node.constant && typeof node.constant.value === 'string') throw syntaxError(`string '${node.constant.value}' cannot be compared with ${at.text}`, at.position);
    if (node.boolean) throw syntaxError(`a boolean cannot be compared with ${at.text}`, at.position);
  }

  private asBoolean(node: Node, position: number): Node {
    if (!node.boolean) throw syntaxError('expression will not result in a boolean value', position);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.at]!;
  }

  private next(): Token {
    const token = this.tokens[this.at]!;
    if (token.kind !== 'end') this.at++;
    return token;
  }

  private previous(): Token {
    return this.tokens[this.at - 1]!;
  }

  private acceptKeyword(word: string): boolean {
    const token = this.peek();
    if (token.kind !== 'keyword' || token.text !== word) return false;
    this.at++;
    return true;
  }

  private acceptSymbol(symbol: string): boolean {
    const token = this.peek();
    if (token.kind !== 'symbol' || token.text !== symbol) return false;
    this.at++;
    return true;
  }

  private expectKeyword(word: string): void {
    if (!this.acceptKeyword(word)) throw syntaxError(`expected ${word}, found ${describe(this.peek())}`, this.peek().position);
  }

  private expectSymbol(symbol: string): void {
    if (!this.acceptSymbol(symbol)) throw syntaxError(`expected ${symbol}, found ${describe(this.peek())}`, this.peek().position);
  }

  private expectString(): string {
    const token = this.next();
    if (token.kind !== 'string') throw syntaxError(`expected a string literal, found ${describe(token)}`, token.position);
    return token.text;
  }
}

const ORDERINGS = {
  '>': (c: number) => c > 0,
  '>=': (c: number) => c >= 0,
  '<': (c: number) => c < 0,
  '<=': (c: number) => c <= 0,
} as const;

function constant(value: Sql92Value): Node {
  return { boolean: false, eval: () => value, constant: { value } };
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'end of expression' : token.kind === 'string' ? `'${token.text}'` : token.text;
}

function parseNumber(token: Token): number {
  const text = token.text.replace(/[lLdDfF]$/, '');
  const value = /^0[xX]/.test(text) ? Number.parseInt(text.slice(2), 16) : Number(text);
  if (!Number.isFinite(value)) throw syntaxError(`number ${token.text} is out of range`, token.position);
  return value;
}

function not(value: Sql92Value): Sql92Value {
  return value === null ? null : !value;
}

/** Three-valued AND; `b` is evaluated only when `a` does not decide. */
function and(a: Sql92Value, b: Eval, p: PropertyLookup): Sql92Value {
  if (a === false) return false;
  const right = b(p);
  if (right === false) return false;
  return a === null || right === null ? null : true;
}

function or(a: Sql92Value, b: Eval, p: PropertyLookup): Sql92Value {
  if (a === true) return true;
  const right = b(p);
  if (right === true) return true;
  return a === null || right === null ? null : false;
}

const NUMERIC = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function toNumber(value: Sql92Value): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMERIC.test(value)) return Number(value);
  throw INCOMPARABLE;
}

function toBoolean(value: Sql92Value): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true' || lower === 'false') return lower === 'true';
  }
  throw INCOMPARABLE;
}

function equal(a: Sql92Value, b: Sql92Value): Sql92Value {
  if (a === null || b === null) return null;
  if (typeof a === typeof b) return a === b;
  if (typeof a === 'number' || typeof b === 'number') return toNumber(a) === toNumber(b);
  return toBoolean(a) === toBoolean(b);
}

/** Ordering: numbers, or strings convertible to numbers (two strings compare numerically if both parse). */
function ordered(a: Sql92Value, b: Sql92Value, test: (comparison: number) => boolean): Sql92Value {
  if (a === null || b === null) return null;
  if (typeof a === 'string' && typeof b === 'string' && !(NUMERIC.test(a) && NUMERIC.test(b))) return test(a < b ? -1 : a > b ? 1 : 0);
  const x = toNumber(a);
  const y = toNumber(b);
  return test(x < y ? -1 : x > y ? 1 : 0);
}
