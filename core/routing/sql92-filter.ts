import { compileCondition, type PropertyLookup } from './sql92/evaluate.ts';
import { invalidFilter } from './sql92/invalid-filter.ts';
import { EVALUATION_FAILED } from './sql92/java-values.ts';
import { MAX_NESTING, parseSelector } from './sql92/parser.ts';

export type { PropertyLookup } from './sql92/evaluate.ts';

/** The longest expression accepted, in UTF-16 code units. */
export const SQL92_MAX_LENGTH = 8192;
/** The deepest an expression may nest (parentheses, prefixes, operators). */
export const SQL92_MAX_DEPTH = MAX_NESTING;

/** A compiled RocketMQ SQL92 property filter. */
export interface Sql92Filter {
  readonly expression: string;
  /** True only when the expression evaluates to TRUE; UNKNOWN, FALSE and evaluation failures do not match. */
  matches(props: PropertyLookup): boolean;
}

/**
 * Compiles a RocketMQ SQL92 filter (the JMS selector dialect of RocketMQ 5.3). Throws
 * BrokerError INVALID_FILTER, naming the position, for anything RocketMQ would refuse to compile,
 * for trailing input after a complete expression, and beyond the length and depth limits.
 */
export function compileSql92(expression: string): Sql92Filter {
  if (expression.length > SQL92_MAX_LENGTH) {
    throw invalidFilter(`the expression is longer than ${SQL92_MAX_LENGTH} characters`, SQL92_MAX_LENGTH);
  }
  const condition = compileCondition(parseSelector(expression));
  return {
    expression,
    matches(props) {
      try {
        return condition(props) === true;
      } catch (err) {
        if (err === EVALUATION_FAILED) return false;
        throw err;
      }
    },
  };
}
