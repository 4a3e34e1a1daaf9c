import { describe, expect, it } from 'vitest';
import { RequestMemory } from './request-memory.ts';

describe('RequestMemory', () => {
  it('stops readers over the limit except the one whose incomplete request is oldest, and wakes them as memory frees', () => {
    const memory = new RequestMemory(100);
    const [a, b, c] = [{}, {}, {}];
    const woken: string[] = [];
    memory.started(a);
    memory.charge(60);
    memory.started(b);
    memory.charge(60);
    expect(memory.mayRead(a)).toBe(true); // oldest incomplete request: may always finish
    expect(memory.mayRead(b)).toBe(false);
    expect(memory.mayRead(c)).toBe(false);
    memory.wait(b, () => woken.push('b'));
    memory.wait(c, () => woken.push('c'));
    memory.charge(40); // a grows
    memory.finished(a); // a's request arrived whole: b is now the oldest
    expect(woken).toEqual(['b']);
    expect(memory.mayRead(b)).toBe(true);
    memory.release(100); // a answered
    expect(memory.bytes).toBe(60);
    expect(woken).toEqual(['b', 'c']);
    memory.cancel(c);
    memory.finished(b);
    memory.release(60);
    expect(memory.bytes).toBe(0);
  });
});
