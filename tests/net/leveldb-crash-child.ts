// Child process of the LevelDB crash test: writes batches forever, each replacing the previous batch's
// keys through a delRange, and prints the number of every batch whose completion it saw. The parent
// kills it with SIGKILL mid-stream and checks that exactly one whole batch survived.
import { LevelDbStorage } from '../../net/leveldb-storage.ts';
import type { WriteOp } from '../../broker/ports.ts';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: leveldb-crash-child.ts DIR');
const KEYS_PER_BATCH = 200;

const opened = await LevelDbStorage.open(dir);
if (!opened.ok) throw new Error(opened.error.message);
const storage = opened.storage;
const key = (i: number): string => `g/${i.toString(16).padStart(8, '0')}`;

function batch(n: number): WriteOp[] {
  const value = new TextEncoder().encode(String(n));
  const ops: WriteOp[] = [{ type: 'delRange', gte: 'g/', lt: 'g0' }];
  for (let i = 0; i < KEYS_PER_BATCH; i++) ops.push({ type: 'put', key: key(i * 7 + (n % 7)), value });
  ops.push({ type: 'put', key: 'n', value });
  return ops;
}

let n = 1;
const next = (): void => {
  const mine = n++;
  storage.write(batch(mine), (err) => {
    if (err !== null) throw new Error(err.message);
    process.stdout.write(`${mine}\n`);
    next();
  });
};
// Two writes always submitted, so the kill can land while one is in flight and the next is waiting.
next();
next();
