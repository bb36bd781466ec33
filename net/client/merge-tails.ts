// Several partition tails read as one: each record as soon as its partition's tail has it, the partitions'
// records interleaved in arrival order, one partition's in its own order. A tail that ends drops out; one
// that fails fails the whole read. Ready tails take turns (the one just read goes to the back), so a busy
// partition cannot starve the others.

export interface Tail<T> {
  readonly partition: number;
  readonly records: AsyncIterator<T>;
}

export interface Arrival<T> {
  readonly partition: number;
  readonly record: T;
}

/** The merged tails; returning from it (break, or `signal` aborting) returns every tail. */
export async function* mergeTails<T>(tails: readonly Tail<T>[], signal?: AbortSignal): AsyncGenerator<Arrival<T>, void, undefined> {
  type Next = { readonly k: number; readonly r: IteratorResult<T> };
  const waiting = new Map<number, Promise<Next>>();
  const ask = (k: number): void => {
    const p = (tails[k] as Tail<T>).records.next().then((r) => ({ k, r }));
    // Raced below, maybe never awaited again once another tail failed: its rejection must not go unhandled.
    p.catch(() => {});
    waiting.set(k, p);
  };
  let onAbort = (): void => {};
  const aborted = new Promise<null>((resolve) => {
    onAbort = () => resolve(null);
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let k = 0; k < tails.length; k++) ask(k);
    while (waiting.size > 0 && signal?.aborted !== true) {
      const next = await Promise.race([...waiting.values(), aborted]);
      if (next === null) return;
      waiting.delete(next.k);
      if (next.r.done === true) continue;
      yield { partition: (tails[next.k] as Tail<T>).partition, record: next.r.value };
      ask(next.k);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(tails.map((t) => t.records.return?.()));
  }
}
