import { compareDoubles, compareJava, negateJava, parseJavaDouble, type JavaValue } from './java-values.ts';
import type { BooleanExpr, Expr, Ordering } from './parser.ts';

/** Looks up a message property (user properties, plus system ones such as TAGS) by name. */
export type PropertyLookup = (name: string) => string | undefined;

type Evaluate = (props: PropertyLookup) => JavaValue;
type Condition = (props: PropertyLookup) => boolean | null;

/**
 * Compiles a parsed selector into closures with the evaluation rules of RocketMQ's expression
 * classes: three-valued logic (null is UNKNOWN), left-to-right short-circuit, and failures (a
 * string that will not convert to the number it is compared with) thrown as EVALUATION_FAILED.
 */
export function compileCondition(e: BooleanExpr): Condition {
  switch (e.type) {
    case 'boolean': {
      const value = e.value;
      return () => value;
    }
    case 'cast': {
      // a property value is never a Boolean object, so a present property casts to FALSE
      const name = e.name;
      return (props) => (props(name) === undefined ? null : false);
    }
    case 'not': {
      const operand = compileCondition(e.operand);
      return (props) => {
        const value = operand(props);
        return value === null ? null : !value;
      };
    }
    case 'or':
      return anyOf(e.operands.map(compileCondition));
    case 'and':
      return allOf(e.operands.map(compileCondition));
    case 'equal':
      return equal(compileValue(e.left), compileValue(e.right));
    case 'compare':
      return ordering(e.operator, compileValue(e.left), compileValue(e.right));
    case 'in': {
      const { name, negated } = e;
      const values = new Set(e.values);
      return (props) => {
        const value = props(name);
        return value === undefined ? null : values.has(value) !== negated;
      };
    }
    case 'text': {
      const { search, negated } = e;
      if (search === '') return () => false;
      const operand = compileValue(e.operand);
      const test = e.test === 'CONTAINS' ? contains : e.test === 'STARTSWITH' ? startsWith : endsWith;
      return (props) => {
        const value = operand(props);
        return typeof value === 'string' && test(value, search) !== negated;
      };
    }
  }
}

const contains = (value: string, search: string): boolean => value.includes(search);
const startsWith = (value: string, search: string): boolean => value.startsWith(search);
const endsWith = (value: string, search: string): boolean => value.endsWith(search);

function compileValue(e: Expr): Evaluate {
  switch (e.type) {
    case 'literal': {
      const value = e.value;
      return () => value;
    }
    case 'property': {
      const name = e.name;
      return (props) => props(name) ?? null;
    }
    case 'negate': {
      const constant = constantValue(e);
      if (constant !== undefined) return () => constant;
      const operand = compileValue(e.operand);
      return (props) => negateJava(operand(props));
    }
    default:
      return compileCondition(e);
  }
}

/** The value of an expression made only of literals and minus signs, or undefined. */
function constantValue(e: Expr): JavaValue | undefined {
  if (e.type === 'literal' || e.type === 'boolean') return e.value;
  if (e.type !== 'negate') return undefined;
  const operand = constantValue(e.operand);
  return operand === undefined ? undefined : negateJava(operand);
}

function anyOf(operands: Condition[]): Condition {
  return (props) => {
    let unknown = false;
    for (const operand of operands) {
      const value = operand(props);
      if (value === true) return true;
      if (value === null) unknown = true;
    }
    return unknown ? null : false;
  };
}

function allOf(operands: Condition[]): Condition {
  return (props) => {
    let unknown = false;
    for (const operand of operands) {
      const value = operand(props);
      if (value === false) return false;
      if (value === null) unknown = true;
    }
    return unknown ? null : true;
  };
}

/** `=`, and IS NULL as `= NULL`: both null is TRUE, only the left null is UNKNOWN, only the right null FALSE. */
function equal(left: Evaluate, right: Evaluate): Condition {
  return (props) => {
    const l = left(props);
    const r = right(props);
    if (l === null) return r === null ? true : null;
    if (r === null) return false;
    if (typeof l === 'string' && typeof r === 'string') return l === r;
    return compareJava(l, r) === 0;
  };
}

const ORDERING_HOLDS: Record<Ordering, (order: number) => boolean> = {
  '>': (order) => order > 0,
  '>=': (order) => order >= 0,
  '<': (order) => order < 0,
  '<=': (order) => order <= 0,
};

/** `>`, `>=`, `<`, `<=`: null on either side is UNKNOWN; two strings compare as doubles or fail. */
function ordering(operator: Ordering, left: Evaluate, right: Evaluate): Condition {
  const holds = ORDERING_HOLDS[operator];
  return (props) => {
    const l = left(props);
    if (l === null) return null;
    const r = right(props);
    if (r === null) return null;
    if (typeof l === 'string' && typeof r === 'string') return holds(compareDoubles(parseJavaDouble(l), parseJavaDouble(r)));
    return holds(compareJava(l, r));
  };
}
