import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasProgram, runProgram } from '../../../test/helpers/programs.ts';
import { atom, binary, float, integer, list, phash2, tuple, type ErlangTerm } from './erlang-phash2.ts';

/** The term in Erlang's syntax, for escript. */
function erlangText(term: ErlangTerm): string {
  switch (term.kind) {
    case 'atom':
      return `'${[...term.name].map((c) => `\\x{${c.codePointAt(0)!.toString(16)}}`).join('')}'`;
    case 'binary':
      return `<<${[...term.bytes].join(',')}>>`;
    case 'integer':
      return term.value.toString();
    case 'float':
      return `(${term.value.toExponential(17).replace('e+', 'e')})`;
    case 'tuple':
      return `{${term.elements.map(erlangText).join(',')}}`;
    case 'list':
      return `[${term.elements.map(erlangText).join(',')}]`;
  }
}

/** erlang:phash2(T, 1 bsl 32) of each term, computed by the Erlang VM that RabbitMQ runs on. */
async function erlangHashes(terms: readonly ErlangTerm[]): Promise<number[]> {
  const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'phash2-')), 'hash.escript');
  const lines = terms.map((t) => `  io:format("~p~n", [erlang:phash2(${erlangText(t)}, 1 bsl 32)]),`);
  fs.writeFileSync(script, ['#!/usr/bin/env escript', 'main(_) ->', ...lines, '  ok.', ''].join('\n'));
  try {
    return (await runProgram('escript', [script], { timeoutMs: 60_000 })).trim().split('\n').map(Number);
  } finally {
    fs.rmSync(path.dirname(script), { recursive: true, force: true });
  }
}

const arbitraryTerm: fc.Arbitrary<ErlangTerm> = fc.letrec<{ term: ErlangTerm }>((tie) => ({
  term: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('true', 'false', 'undefined', 'longstr', 'long', 'table', 'café').map(atom),
    fc.uint8Array({ maxLength: 40 }).map((bytes) => binary(Buffer.from(bytes))),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(integer),
    fc.integer({ min: -300, max: 300 }).map(integer),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(float),
    fc.array(tie('term'), { maxLength: 4 }).map((elements) => tuple(...elements)),
    fc.array(tie('term'), { maxLength: 5 }).map(list),
  ),
})).term;

describe.runIf(hasProgram('escript', 'the erlang:phash2 comparison'))('erlang:phash2 beside the Erlang VM', () => {
  it('hashes what a field table becomes (binaries, atoms, integers small and big, floats, tuples, lists, byte strings) as erlang:phash2/2 does', async () => {
    const fixed = [
      list([]),
      binary(Buffer.alloc(0)),
      list([1, 2, 3, 4, 5, 6, 7].map(integer)),
      list([integer(65), atom('a'), integer(66), integer(300)]),
      list([tuple(binary(Buffer.from('x-match')), atom('longstr'), binary(Buffer.from('all')))]),
      float(-0),
      integer(2n ** 63n - 1n),
      integer(-(2n ** 64n) - 5n),
    ];
    const random = fc.sample(arbitraryTerm, { numRuns: 300, seed: 20261207 });
    const terms = [...fixed, ...random];
    expect(terms.map(phash2)).toEqual(await erlangHashes(terms));
  }, 90_000);
});
