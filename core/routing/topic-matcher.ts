interface TrieNode<D> {
  words: Map<string, TrieNode<D>>;
  star: TrieNode<D> | undefined;
  hash: TrieNode<D> | undefined;
  /** Destinations bound by a pattern ending here, with how many times each was bound. */
  destinations: Map<D, number>;
}

function node<D>(): TrieNode<D> {
  return { words: new Map(), star: undefined, hash: undefined, destinations: new Map() };
}

/** A routing key or binding pattern as words: "" is no words, "a." is ["a", ""]. */
function words(text: string): string[] {
  return text === '' ? [] : text.split('.');
}

/**
 * Topic-exchange bindings as a trie of words, with RabbitMQ's semantics: `*` matches exactly one word,
 * `#` zero or more. Matching walks only the branches a key can take, and never visits a (node,
 * position) pair twice, so `#.#.#` patterns stay linear in the key.
 */
export class TopicMatcher<D> {
  private readonly root: TrieNode<D> = node();
  private count = 0;

  /** Distinct (pattern, destination) pairs held; binding one pair twice needs two removals. */
  get size(): number {
    return this.count;
  }

  add(pattern: string, destination: D): void {
    let at = this.root;
    for (const word of words(pattern)) {
      if (word === '*') at = at.star ??= node();
      else if (word === '#') at = at.hash ??= node();
      else {
        let next = at.words.get(word);
        if (!next) at.words.set(word, (next = node()));
        at = next;
      }
    }
    const bound = at.destinations.get(destination) ?? 0;
    if (bound === 0) this.count++;
    at.destinations.set(destination, bound + 1);
  }

  /** Removes one of the bindings of `pattern` to `destination` (they are counted); returns whether one existed. */
  remove(pattern: string, destination: D): boolean {
    const path: TrieNode<D>[] = [this.root];
    let at: TrieNode<D> | undefined = this.root;
    for (const word of words(pattern)) {
      at = word === '*' ? at.star : word === '#' ? at.hash : at.words.get(word);
      if (!at) return false;
      path.push(at);
    }
    const bound = at.destinations.get(destination);
    if (bound === undefined) return false;
    if (bound > 1) {
      at.destinations.set(destination, bound - 1);
      return true;
    }
    at.destinations.delete(destination);
    this.count--;
    this.prune(path, words(pattern));
    return true;
  }

  /** Every destination whose pattern matches `routingKey`, each once. */
  match(routingKey: string): Set<D> {
    const key = words(routingKey);
    const found = new Set<D>();
    const visited = new Set<TrieNode<D>>();
    const seen = new Map<TrieNode<D>, Set<number>>();
    const walk = (at: TrieNode<D>, i: number): void => {
      let positions = seen.get(at);
      if (positions?.has(i)) return;
      if (!positions) seen.set(at, (positions = new Set()));
      positions.add(i);
      visited.add(at);
      if (at.hash) for (let j = i; j <= key.length; j++) walk(at.hash, j);
      if (i === key.length) {
        for (const destination of at.destinations.keys()) found.add(destination);
        return;
      }
      const exact = at.words.get(key[i]!);
      if (exact) walk(exact, i + 1);
      if (at.star) walk(at.star, i + 1);
    };
    walk(this.root, 0);
    return found;
  }

  private prune(path: TrieNode<D>[], pattern: string[]): void {
    for (let i = path.length - 1; i > 0; i--) {
      const child = path[i]!;
      if (child.destinations.size > 0 || child.words.size > 0 || child.star || child.hash) return;
      const parent = path[i - 1]!;
      const word = pattern[i - 1]!;
      if (word === '*') parent.star = undefined;
      else if (word === '#') parent.hash = undefined;
      else parent.words.delete(word);
    }
  }
}
