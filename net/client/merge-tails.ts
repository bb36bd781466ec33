// Several partition tails read as one: each record as soon as its partition's tail has it, the partitions'
// records interleaved in arrival order, one partition's in its own order. A tail that ends drops out; one
// that fails fails the whole read. Answers queue in arrival order and the tail just read asks again at the
// back, so a busy partition cannot starve the others. No promise outlives its answer: racing the tails'
// pending promises instead would attach a reaction to a quiet tail's promise at every record, which it
// keeps until it settles (a leak of every record's worth, for as long as the partition stays quiet).
// With `discover`, tails can join while reading: it is asked again each time it answers (it decides how
// long to wait), and the tails it returns are read from then on. Its signal aborts when the read ends.

export interface Tail<T> {
  readonly partition: number;
  readonly records: AsyncIterator<T>;
}

export interface Arrival<T> {
  readonly partition: number;
  readonly record: T;
}

type Answer<T> =
  | { readonly k: number; readonly r: IteratorResult<T> }
  | { readonly k: number; readonly error: unknown }
  | { readonly joined: readonly Tail<T>[] };

/** The merged tails; returning from it (break, or `signal` aborting) returns every tail. */
export async function* mergeTails<T>(initial: readonly Tail<T>[], signal?: AbortSignal, discover?: (ended: AbortSignal) => Promise<readonly Tail<T>[]>): AsyncGenerator<Arrival<T>, void, undefined> {
  const tails = [...initial];
  const answers: Answer<T>[] = [];
  let asking = 0;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const ask = (k: number): void => {
    asking++;
    (tails[k] as Tail<T>).records.next().then((r) => ({ k, r }), (error: unknown) => ({ k, error })).then((a: Answer<T>) => {
      asking--;
      answers.push(a);
      notify();
    });
  };
  const ended = new AbortController();
  // A failed discovery is not the read's failure: the next one may succeed. Tails found after the read
  // ended are returned at once.
  const askDiscover = (d: (ended: AbortSignal) => Promise<readonly Tail<T>[]>): void => {
    asking++;
    d(ended.signal).catch(() => []).then((joined) => {
      asking--;
      if (ended.signal.aborted) return void Promise.all(joined.map((t) => t.records.return?.()));
      answers.push({ joined });
      notify();
    });
  };
  const aborted = (): boolean => signal?.aborted === true;
  signal?.addEventListener('abort', notify, { once: true });
  try {
    if (aborted()) return;
    for (let k = 0; k < tails.length; k++) ask(k);
    if (discover !== undefined) askDiscover(discover);
    while (!aborted()) {
      const a = answers.shift();
      if (a === undefined) {
        if (asking === 0) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      if ('joined' in a) {
        for (const t of a.joined) ask(tails.push(t) - 1);
        if (discover !== undefined) askDiscover(discover);
        continue;
      }
      if ('error' in a) throw a.error;
      if (a.r.done === true) continue;
      yield { partition: (tails[a.k] as Tail<T>).partition, record: a.r.value };
      ask(a.k);
    }
  } finally {
    ended.abort();
    signal?.removeEventListener('abort', notify);
    for (const a of answers) if ('joined' in a) tails.push(...a.joined);
    await Promise.all(tails.map((t) => t.records.return?.()));
  }
}
