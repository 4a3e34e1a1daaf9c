/** The parts of Kafka's message schema JSON (clients/src/main/resources/common/message/*.json) the generator reads. */

export interface VersionRange {
  min: number;
  max: number;
}

export interface SchemaField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: string | number | boolean;
  fields?: SchemaField[];
}

export interface MessageSchema {
  name: string;
  type: 'request' | 'response' | 'header' | 'data';
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  fields: SchemaField[];
  commonStructs?: Array<{ name: string; versions: string; fields: SchemaField[] }>;
}

export const NEVER: VersionRange = { min: 1, max: 0 };
const MAX = 0x7fff;

/** "3+", "1-4", "5", "none". */
export function parseRange(text: string | undefined): VersionRange {
  if (text === undefined || text === 'none' || text === '') return NEVER;
  const plus = /^(\d+)\+$/.exec(text);
  if (plus) return { min: Number(plus[1]), max: MAX };
  const span = /^(\d+)-(\d+)$/.exec(text);
  if (span) return { min: Number(span[1]), max: Number(span[2]) };
  if (/^\d+$/.test(text)) return { min: Number(text), max: Number(text) };
  throw new Error(`cannot parse version range ${text}`);
}

export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
}

export function isEmpty(r: VersionRange): boolean {
  return r.min > r.max;
}

export function contains(outer: VersionRange, inner: VersionRange): boolean {
  return isEmpty(inner) || (outer.min <= inner.min && outer.max >= inner.max);
}

/** Strips the `//` comments Kafka's schema files carry, then parses. */
export function parseSchema(text: string): MessageSchema {
  const stripped = text
    .split('\n')
    .map((line) => {
      let inString = false;
      for (let i = 0; i < line.length - 1; i++) {
        if (line[i] === '"' && line[i - 1] !== '\\') inString = !inString;
        if (!inString && line[i] === '/' && line[i + 1] === '/') return line.slice(0, i);
      }
      return line;
    })
    .join('\n');
  return JSON.parse(stripped) as MessageSchema;
}
