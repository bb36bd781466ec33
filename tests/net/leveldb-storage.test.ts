// The LevelDB Storage port: what is written is loaded back sorted, range deletes act in batch order and
// atomically (even under kill -9), completions arrive in submission order and never synchronously, a write
// starts only after the immediates its pass already queued (the network's sends) unless told nothing waits
// to be sent, everything survives close and reopen, and misuse (closed store, locked directory) is an
// error value.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StorageError, WriteOp } from '../../broker/ports.ts';
import { entryKey, entryKeyEnd } from '../../broker/storage-codec.ts';
import { LevelDbStorage, type LevelDbStorageOptions } from '../../net/leveldb-storage.ts';
import type { Index } from '../../raft/types.ts';

const root = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
const open: LevelDbStorage[] = [];
const enc = new TextEncoder();
const dec = new TextDecoder();

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keel-leveldb-'));
  dirs.push(d);
  return d;
}

async function openAt(dir: string, options: LevelDbStorageOptions = {}): Promise<LevelDbStorage> {
  const r = await LevelDbStorage.open(dir, options);
  if (!r.ok) throw new Error(r.error.message);
  open.push(r.storage);
  return r.storage;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const write = (s: LevelDbStorage, batch: readonly WriteOp[]): Promise<StorageError | null> => new Promise((resolve) => s.write(batch, resolve));
const load = (s: LevelDbStorage): Promise<{ records: ReadonlyMap<string, Uint8Array>; err: StorageError | null }> =>
  new Promise((resolve) => s.load((records, err) => resolve({ records, err })));
const put = (key: string, value: string): WriteOp => ({ type: 'put', key, value: enc.encode(value) });
const asText = (m: ReadonlyMap<string, Uint8Array>): [string, string][] => [...m].map(([k, v]) => [k, dec.decode(v)]);
/** Pushes 'started' onto `events` whenever the storage begins a LevelDB batch (a write starting). */
function noteBatchStarts(s: LevelDbStorage, events: string[]): void {
  const db = (s as unknown as { db: { batch: () => unknown } }).db;
  const batch = db.batch.bind(db);
  db.batch = () => {
    events.push('started');
    return batch();
  };
}

describe('LevelDB storage', () => {
  it('loads back what was written, sorted by key, as plain Uint8Arrays', async () => {
    const s = await openAt(tempDir());
    expect(await write(s, [put('b', '2'), put('a', '1'), put('c/x', '3'), { type: 'put', key: 'bin', value: new Uint8Array([0, 255, 7]) }])).toBeNull();
    expect(await write(s, [{ type: 'del', key: 'c/x' }, put('a', '1b')])).toBeNull();
    const { records, err } = await load(s);
    expect(err).toBeNull();
    expect([...records.keys()]).toEqual(['a', 'b', 'bin']);
    expect(dec.decode(records.get('a'))).toBe('1b');
    expect(records.get('bin')).toEqual(new Uint8Array([0, 255, 7]));
    expect(Object.getPrototypeOf(records.get('bin'))).toBe(Uint8Array.prototype);
  });

  it('applies a delRange in batch order: earlier puts in range go, later ones stay, others are untouched', async () => {
    const s = await openAt(tempDir());
    const e = (g: number, i: number): string => entryKey(g, i as Index);
    expect(await write(s, [put(e(1, 1), 'old1'), put(e(1, 2), 'old2'), put(e(2, 1), 'other group')])).toBeNull();
    expect(await write(s, [
      put(e(1, 3), 'put before the range delete'),
      { type: 'delRange', gte: e(1, 0), lt: entryKeyEnd(1) },
      put(e(1, 2), 'put after the range delete'),
      { type: 'delRange', gte: 'z', lt: 'a' }, // empty range: no-op
    ])).toBeNull();
    expect(asText((await load(s)).records)).toEqual([[e(1, 2), 'put after the range delete'], [e(2, 1), 'other group']]);
  });

  it('deletes a large range in the same batch as the rest', async () => {
    const s = await openAt(tempDir());
    const N = 20_000;
    const ops: WriteOp[] = [];
    for (let i = 1; i <= N; i++) ops.push(put(entryKey(5, i as Index), 'x'.repeat(50)));
    expect(await write(s, ops)).toBeNull();
    expect(await write(s, [{ type: 'delRange', gte: entryKey(5, 0 as Index), lt: entryKey(5, (N - 9) as Index) }, put('n/marker', 'compacted')])).toBeNull();
    const { records } = await load(s);
    expect(records.size).toBe(11);
    expect(s.stats.rangeDeletedKeys).toBe(N - 10);
  });

  it('is all or nothing: a batch that fails leaves its range delete unapplied, and the disk is distrusted after', async () => {
    const dir = tempDir();
    const s = await openAt(dir);
    expect(await write(s, [put('k/1', 'a'), put('k/2', 'b')])).toBeNull();
    // An op LevelDB refuses (no value) makes the whole batch fail, range delete included.
    const bad = { type: 'put', key: 'k/3', value: undefined } as unknown as WriteOp;
    const err = await write(s, [{ type: 'delRange', gte: 'k/', lt: 'k0' }, put('other', 'x'), bad]);
    expect(err?.code).toBe('IO_ERROR');
    const after = await write(s, [put('later', 'y')]);
    expect(after?.code).toBe('IO_ERROR');
    expect(after?.message).toMatch(/earlier write failed/);
    await s.close();
    open.splice(open.indexOf(s), 1);
    const reopened = await openAt(dir);
    expect(asText((await load(reopened)).records)).toEqual([['k/1', 'a'], ['k/2', 'b']]);
  });

  it('completes writes in submission order, never synchronously', async () => {
    const s = await openAt(tempDir());
    const order: number[] = [];
    let returned = false;
    const all = Array.from({ length: 50 }, (_, i) => new Promise<void>((resolve) => {
      s.write([put('same-key', String(i)), put(`k/${String(i).padStart(3, '0')}`, String(i))], (err) => {
        expect(err).toBeNull();
        expect(returned).toBe(true);
        order.push(i);
        resolve();
      });
    }));
    returned = true;
    await Promise.all(all);
    expect(order).toEqual([...Array(50).keys()]);
    expect(dec.decode((await load(s)).records.get('same-key'))).toBe('49');
  });

  it('starts a write after the immediates already queued in its pass, and close() waits for a write not yet started', async () => {
    const dir = tempDir();
    const s = await openAt(dir);
    const events: string[] = [];
    noteBatchStarts(s, events);
    // Stands in for Node's HTTP/2 sessions, which flush a turn's sends from an immediate queued before it.
    setImmediate(() => events.push('sent'));
    const written = write(s, [put('k', 'v')]).then((err) => events.push(`written ${String(err)}`));
    const closed = s.close().then(() => events.push('closed'));
    open.splice(open.indexOf(s), 1);
    await Promise.all([written, closed]);
    expect(events).toEqual(['sent', 'started', 'written null', 'closed']);
    expect(asText((await load(await openAt(dir))).records)).toEqual([['k', 'v']]);
  });

  it('starts a write at once while deferWhile says nothing waits to be sent, and in the check phase while it does', async () => {
    let sendsWaiting = false;
    const s = await openAt(tempDir(), { deferWhile: () => sendsWaiting });
    const started: string[] = [];
    noteBatchStarts(s, started);
    const first = write(s, [put('a', '1')]);
    expect(started).toEqual(['started']); // synchronously, inside write()
    expect(await first).toBeNull();
    sendsWaiting = true;
    setImmediate(() => started.push('sent'));
    const second = write(s, [put('b', '2')]);
    expect(started).toEqual(['started']);
    expect(await second).toBeNull();
    expect(started).toEqual(['started', 'sent', 'started']);
    expect(asText((await load(s)).records)).toEqual([['a', '1'], ['b', '2']]);
  });

  it('keeps everything across close and reopen', async () => {
    const dir = tempDir();
    const s = await openAt(dir);
    const ops: WriteOp[] = Array.from({ length: 500 }, (_, i) => put(`g/${String(i).padStart(4, '0')}`, `v${i}`));
    expect(await write(s, ops)).toBeNull();
    expect(await write(s, [{ type: 'delRange', gte: 'g/0100', lt: 'g/0200' }])).toBeNull();
    const before = asText((await load(s)).records);
    await s.close();
    open.splice(open.indexOf(s), 1);
    const reopened = await openAt(dir);
    expect(asText((await load(reopened)).records)).toEqual(before);
    expect(before).toHaveLength(400);
  });

  it('reports use after close and a locked directory as error values', async () => {
    const dir = tempDir();
    const s = await openAt(dir);
    const second = await LevelDbStorage.open(dir);
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.error).toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/LEVEL_LOCKED/) });
    await s.close();
    expect(await write(s, [put('a', '1')])).toEqual({ code: 'CLOSED', message: 'storage is closed' });
    expect((await load(s)).err?.code).toBe('CLOSED');
    await s.close(); // idempotent
  });

  it('survives kill -9 mid-stream with exactly one whole batch on disk, at least the last acknowledged', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [join(root, 'bin', 'run-ts.js'), join(root, 'tests', 'net', 'leveldb-crash-child.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = 0;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const lines = out.split('\n');
        out = lines.pop() ?? '';
        for (const l of lines) acked = Math.max(acked, Number(l));
        if (acked >= 200) resolve();
      });
    });
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const s = await openAt(dir);
    const { records } = await load(s);
    const survivor = Number(dec.decode(records.get('n')));
    expect(survivor).toBeGreaterThanOrEqual(acked);
    // Whole batch: its 200 keys, all holding its number, and nothing of any other batch.
    const values = [...records].filter(([k]) => k.startsWith('g/')).map(([, v]) => Number(dec.decode(v)));
    expect(values).toHaveLength(200);
    expect(new Set(values)).toEqual(new Set([survivor]));
  });

  it('measures synced batch rates (printed, not asserted)', async () => {
    const s = await openAt(tempDir());
    const value = new Uint8Array(100).fill(7);
    const rate = async (opsPerBatch: number, batches: number): Promise<number> => {
      let k = 0;
      const start = performance.now();
      for (let b = 0; b < batches; b++) {
        const ops: WriteOp[] = [];
        for (let i = 0; i < opsPerBatch; i++) ops.push({ type: 'put', key: `bench/${String(k++).padStart(10, '0')}`, value });
        const err = await write(s, ops);
        expect(err).toBeNull();
      }
      return batches / ((performance.now() - start) / 1000);
    };
    await rate(1, 50); // warm-up
    const one = await rate(1, 500);
    const hundred = await rate(100, 300);
    console.log(`LevelDB sync: 1-op batches ${one.toFixed(0)}/s (${one.toFixed(0)} entries/s); `
      + `100-op batches ${hundred.toFixed(0)}/s (${(hundred * 100).toFixed(0)} entries/s, 100-byte values)`);
  });
});
