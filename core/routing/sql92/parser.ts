import { invalidFilter } from './invalid-filter.ts';
import { compareJava, doubleValue, inIntRange, inLongRange, intValue, longValue, type JavaNumber } from './java-values.ts';
import { tokenize, type Keyword, type Punctuation, type Token } from './lexer.ts';

/** Expressions that yield a value; only a property may stand where a boolean is needed. */
export type ValueExpr =
  | { readonly type: 'literal'; readonly value: string | JavaNumber }
  | { readonly type: 'property'; readonly name: string }
  | { readonly type: 'negate'; readonly operand: Expr };

export type Ordering = '>' | '>=' | '<' | '<=';
export type TextTest = 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH';

/** Expressions RocketMQ types as BooleanExpression; `boolean` is the TRUE, FALSE and NULL literals. */
export type BooleanExpr =
  | { readonly type: 'boolean'; readonly value: boolean | null }
  | { readonly type: 'cast'; readonly name: string }
  | { readonly type: 'not'; readonly operand: BooleanExpr }
  | { readonly type: 'and' | 'or'; readonly operands: readonly BooleanExpr[] }
  | { readonly type: 'equal'; readonly left: Expr; readonly right: Expr }
  | { readonly type: 'compare'; readonly operator: Ordering; readonly left: Expr; readonly right: Expr }
  | { readonly type: 'in'; readonly name: string; readonly values: readonly string[]; readonly negated: boolean }
  | { readonly type: 'text'; readonly test: TextTest; readonly operand: Expr; readonly search: string; readonly negated: boolean };

export type Expr = ValueExpr | BooleanExpr;

/** The deepest the expression tree, and the parser's recursion through parentheses and prefixes, may go. */
export const MAX_NESTING = 100;

/**
 * Parses a selector with the grammar of RocketMQ's SelectorParser.jj, including its compile-time
 * checks (which operands may be compared, BETWEEN bounds in order, IN only on a property). Unlike
 * RocketMQ, which stops reading after the first complete expression, trailing input is refused.
 */
export function parseSelector(text: string): BooleanExpr {
  return new Parser(tokenize(text)).parse();
}

const ORDERINGS: readonly string[] = ['>', '>=', '<', '<='];
const TEXT_TESTS: readonly string[] = ['CONTAINS', 'STARTSWITH', 'ENDSWITH'];

function isConstant(e: Expr): e is Extract<Expr, { type: 'literal' | 'boolean' }> {
  return e.type === 'literal' || e.type === 'boolean';
}

function isBoolean(e: Expr): e is BooleanExpr {
  return e.type !== 'literal' && e.type !== 'property' && e.type !== 'negate';
}

function describe(token: Token): string {
  if (token.type === 'end') return 'the end of the expression';
  const text = token.text.length > 40 ? `${token.text.slice(0, 37)}...` : token.text;
  return `'${text}'`;
}

class Parser {
  private next = 0;
  private nesting = 0;
  /** Tree depth of every node built, to refuse trees deeper than MAX_NESTING as they grow. */
  private readonly depths = new WeakMap<Expr, number>();
  /** Where each node's text starts, to point errors about an operand at that operand. */
  private readonly starts = new WeakMap<Expr, number>();

  constructor(private readonly tokens: Token[]) {}

  parse(): BooleanExpr {
    const start = this.peek().at;
    const expr = this.or();
    const rest = this.peek();
    if (rest.type !== 'end') {
      throw invalidFilter(`unexpected ${describe(rest)} after a complete expression`, rest.at);
    }
    return this.asBoolean(expr, start);
  }

  private or(): Expr {
    let left = this.and();
    while (this.atKeyword('OR')) {
      const operator = this.take();
      const right = this.and();
      left = this.logic('or', this.asBoolean(left, operator.at), this.asBoolean(right, operator.at), operator.at);
    }
    return left;
  }

  private and(): Expr {
    let left = this.equality();
    while (this.atKeyword('AND')) {
      const operator = this.take();
      const right = this.equality();
      left = this.logic('and', this.asBoolean(left, operator.at), this.asBoolean(right, operator.at), operator.at);
    }
    return left;
  }

  private equality(): Expr {
    let left = this.comparison();
    for (;;) {
      const token = this.peek();
      if (this.atSymbol('=') || this.atSymbol('<>')) {
        this.take();
        const equal = this.equal(left, this.comparison(), token.at);
        left = token.type === 'symbol' && token.symbol === '<>' ? this.node({ type: 'not', operand: equal }, token.at, equal) : equal;
      } else if (this.atKeyword('IS')) {
        this.take();
        const negated = this.atKeyword('NOT');
        if (negated) this.take();
        this.expectKeyword('NULL', negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
        const isNull = this.node<BooleanExpr>({ type: 'equal', left, right: { type: 'boolean', value: null } }, token.at, left);
        left = negated ? this.node({ type: 'not', operand: isNull }, token.at, isNull) : isNull;
      } else {
        return left;
      }
    }
  }

  private comparison(): Expr {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (token.type === 'symbol' && ORDERINGS.includes(token.symbol)) {
        this.take();
        left = this.ordering(token.symbol as Ordering, left, this.unary(), token.at);
        continue;
      }
      let negated = false;
      let test = token;
      if (token.type === 'keyword' && token.keyword === 'NOT') {
        negated = true;
        test = this.tokens[this.next + 1]!;
        if (test.type !== 'keyword' || !['BETWEEN', 'IN', ...TEXT_TESTS].includes(test.keyword)) {
          throw invalidFilter(`expected CONTAINS, STARTSWITH, ENDSWITH, BETWEEN or IN after NOT, found ${describe(test)}`, test.at);
        }
        this.take();
      }
      if (test.type !== 'keyword') return left;
      if (TEXT_TESTS.includes(test.keyword)) {
        this.take();
        const search = this.expectString(`a string literal after ${test.keyword}`);
        left = this.node({ type: 'text', test: test.keyword as TextTest, operand: left, search, negated }, token.at, left);
      } else if (test.keyword === 'BETWEEN') {
        this.take();
        left = this.between(left, negated, token.at);
      } else if (test.keyword === 'IN') {
        this.take();
        left = this.in(left, negated, token.at);
      } else {
        return left;
      }
    }
  }

  private unary(): Expr {
    const token = this.peek();
    const prefix = token.type === 'symbol' && (token.symbol === '+' || token.symbol === '-');
    if (!prefix && !this.atKeyword('NOT')) return this.primary();
    this.take();
    const operand = this.nested(token, () => this.unary());
    if (token.text === '+') return operand;
    let prefixed: Expr;
    if (token.type === 'keyword') {
      const condition = this.asBoolean(operand, token.at);
      prefixed = this.node({ type: 'not', operand: condition }, token.at, condition);
    } else {
      prefixed = this.node({ type: 'negate', operand }, token.at, operand);
    }
    this.starts.set(prefixed, token.at);
    return prefixed;
  }

  private primary(): Expr {
    const token = this.take();
    switch (token.type) {
      case 'string':
        return this.node({ type: 'literal', value: token.value }, token.at);
      case 'decimal':
        return this.node({ type: 'literal', value: decimalLiteral(token.text, token.at) }, token.at);
      case 'float':
        return this.node({ type: 'literal', value: floatLiteral(token.text, token.at) }, token.at);
      case 'identifier':
        return this.node({ type: 'property', name: token.text }, token.at);
      case 'keyword':
        if (token.keyword === 'TRUE' || token.keyword === 'FALSE' || token.keyword === 'NULL') {
          const value = token.keyword === 'NULL' ? null : token.keyword === 'TRUE';
          return this.node({ type: 'boolean', value }, token.at);
        }
        break;
      case 'symbol':
        if (token.symbol === '(') {
          const inner = this.nested(token, () => this.or());
          this.expectSymbol(')', `')' to close the '(' at position ${token.at + 1}`);
          return inner;
        }
        break;
      case 'end':
        break;
    }
    throw invalidFilter(`expected a literal, a property or '(', found ${describe(token)}`, token.at);
  }

  private between(value: Expr, negated: boolean, at: number): BooleanExpr {
    const low = this.unary();
    this.expectKeyword('AND', 'AND between the bounds of BETWEEN');
    const high = this.unary();
    if (negated) {
      return this.logic('or', this.ordering('<', value, low, at), this.ordering('>', value, high, at), at);
    }
    if (isConstant(low) && isConstant(high)) {
      if (low.value === null || high.value === null) throw invalidFilter('the bounds of BETWEEN cannot be NULL', at);
      let order: number;
      try {
        order = compareJava(high.value, low.value);
      } catch {
        throw invalidFilter('the bounds of BETWEEN cannot be compared with each other', at);
      }
      if (order < 0) throw invalidFilter('the lower bound of BETWEEN is greater than the upper bound', at);
    }
    return this.logic('and', this.ordering('>=', value, low, at), this.ordering('<=', value, high, at), at);
  }

  private in(left: Expr, negated: boolean, at: number): BooleanExpr {
    this.expectSymbol('(', "'(' after IN");
    const values = [this.expectString('a string literal in the IN list')];
    while (this.atSymbol(',')) {
      this.take();
      values.push(this.expectString('a string literal after , in the IN list'));
    }
    this.expectSymbol(')', "',' or ')' in the IN list");
    if (left.type !== 'property') throw invalidFilter('IN needs a property on its left', at);
    return this.node({ type: 'in', name: left.name, values, negated }, at, left);
  }

  private ordering(operator: Ordering, left: Expr, right: Expr, at: number): BooleanExpr {
    for (const operand of [left, right]) {
      const comparable = operand.type === 'literal' ? typeof operand.value !== 'string' : !isBoolean(operand);
      if (!comparable) throw invalidFilter(`${operator} compares numbers; a string literal or a boolean cannot be its operand`, at);
    }
    return this.node({ type: 'compare', operator, left, right }, at, left, right);
  }

  private equal(left: Expr, right: Expr, at: number): BooleanExpr {
    if ((left.type === 'boolean' && left.value === null) || (right.type === 'boolean' && right.value === null)) {
      throw invalidFilter('NULL cannot be compared with = or <>; use IS NULL', at);
    }
    if (left.type === 'boolean' && right.type === 'literal') {
      throw invalidFilter('a TRUE or FALSE literal cannot be compared with a string or number literal', at);
    }
    return this.node({ type: 'equal', left, right }, at, left, right);
  }

  private logic(type: 'and' | 'or', left: BooleanExpr, right: BooleanExpr, at: number): BooleanExpr {
    const operands = [left, right].flatMap((e) => (e.type === type ? e.operands : [e]));
    return this.node({ type, operands }, at, ...operands);
  }

  private asBoolean(e: Expr, at: number): BooleanExpr {
    if (isBoolean(e)) return e;
    const start = this.starts.get(e) ?? at;
    if (e.type === 'property') return this.node({ type: 'cast', name: e.name }, start, e);
    throw invalidFilter('a string, number or negated value is used where a condition is expected', start);
  }

  private node<E extends Expr>(e: E, at: number, ...children: Expr[]): E {
    let depth = 1;
    for (const child of children) depth = Math.max(depth, (this.depths.get(child) ?? 1) + 1);
    if (depth > MAX_NESTING) throw invalidFilter(`the expression nests deeper than ${MAX_NESTING} levels`, at);
    this.depths.set(e, depth);
    this.starts.set(e, children.length > 0 ? (this.starts.get(children[0]!) ?? at) : at);
    return e;
  }

  private nested<T>(opening: Token, parse: () => T): T {
    if (++this.nesting > MAX_NESTING) throw invalidFilter(`the expression nests deeper than ${MAX_NESTING} levels`, opening.at);
    const result = parse();
    this.nesting--;
    return result;
  }

  private peek(): Token {
    return this.tokens[this.next]!;
  }

  private take(): Token {
    const token = this.tokens[this.next]!;
    if (token.type !== 'end') this.next++;
    return token;
  }

  private atKeyword(keyword: Keyword): boolean {
    const token = this.peek();
    return token.type === 'keyword' && token.keyword === keyword;
  }

  private atSymbol(symbol: Punctuation): boolean {
    const token = this.peek();
    return token.type === 'symbol' && token.symbol === symbol;
  }

  private expectKeyword(keyword: Keyword, expected: string): void {
    if (!this.atKeyword(keyword)) throw invalidFilter(`expected ${expected}, found ${describe(this.peek())}`, this.peek().at);
    this.take();
  }

  private expectSymbol(symbol: Punctuation, expected: string): void {
    if (!this.atSymbol(symbol)) throw invalidFilter(`expected ${expected}, found ${describe(this.peek())}`, this.peek().at);
    this.take();
  }

  private expectString(expected: string): string {
    const token = this.peek();
    if (token.type !== 'string') throw invalidFilter(`expected ${expected}, found ${describe(token)}`, token.at);
    this.take();
    return token.value;
  }
}

/** ConstantExpression.createFromDecimal: an Integer when it fits, else a Long, else refused. */
function decimalLiteral(text: string, at: number): JavaNumber {
  const last = text.charCodeAt(text.length - 1);
  const value = BigInt(last === 0x6c || last === 0x4c ? text.slice(0, -1) : text);
  if (!inLongRange(value)) throw invalidFilter(`the integer ${text} does not fit a Java long`, at);
  return inIntRange(value) ? intValue(Number(value)) : longValue(value);
}

/** ConstantExpression.createFloat, which refuses infinity and anything below Double.MIN_VALUE, zero included. */
function floatLiteral(text: string, at: number): JavaNumber {
  const value = Number(text);
  if (value === Infinity) throw invalidFilter(`the number ${text} is larger than the largest double`, at);
  if (value < Number.MIN_VALUE) throw invalidFilter(`the number ${text} is below the smallest positive double (RocketMQ refuses 0.0)`, at);
  return doubleValue(value);
}
