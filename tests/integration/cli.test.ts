// The `keel` command as a user types it (DESIGN.md §8): `keel cluster up --json` in the background, then
// topic, produce and consume commands against it — tables by default, JSON with --json, a non-zero exit
// code and a one-line reason for bad input (invalid topic name, unknown topic, oversized record,
// unreachable bootstrap address), a file larger than the producer buffer, a reader that closes the pipe early.
// Last, `cluster up` is killed with SIGKILL: its nodes must not outlive it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBasePort } from '../../cli/base-port.ts';
import { KEEL, keel } from './keel-cli.ts';

/** Running (a zombie, exited but not yet reaped by whoever adopted it, counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: kill(pid, 0) is all we know
  }
}

describe('the keel command against a cluster started with `keel cluster up`', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-cli-'));
  const basePort = randomBasePort(21_000, 5_000); // disjoint from cluster.test.ts's range
  let up: ChildProcess;
  let nodePids: number[] = [];
  let bootstrap = '';
  const at = (): string[] => ['--bootstrap', bootstrap];
  /** Everything `cluster up --json` printed on standard output. */
  const upStdout: string[] = [];

  beforeAll(async () => {
    up = spawn(process.execPath, [KEEL, 'cluster', 'up', '--json', '--data-dir', dataDir, '--base-port', String(basePort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = await new Promise<{ nodes: { pid: number }[]; bootstrap: string }>((done, fail) => {
      const lines = createInterface({ input: up.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        upStdout.push(line);
        if (line.startsWith('{"nodes"')) done(JSON.parse(line) as { nodes: { pid: number }[]; bootstrap: string });
      });
      up.on('exit', (code) => fail(new Error(`cluster up exited with ${code}`)));
    });
    nodePids = ready.nodes.map((n) => n.pid);
    bootstrap = ready.bootstrap;
  }, 90_000);

  afterAll(async () => {
    if (up.exitCode === null) up.kill('SIGTERM');
    for (const pid of nodePids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('cluster up --json prints the node list alone on standard output (node logs go to standard error)', () => {
    expect(upStdout.length).toBeGreaterThan(0);
    for (const line of upStdout) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
  });

  it('creates, lists and describes topics, as tables and as JSON', async () => {
    const created = await keel(['topic', 'create', 'cli-demo', '--partitions', '3', '--replicas', '3', ...at()]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('created topic cli-demo');
    expect(created.stdout).toMatch(/PARTITION\s+LEADER\s+REPLICAS/);
    const list = await keel(['topic', 'list', '--json', ...at()]);
    expect(JSON.parse(list.stdout)).toEqual({ topics: ['cli-demo'] });
    // Again: refused, unless --if-not-exists (then the topic is left as it is).
    expect((await keel(['topic', 'create', 'cli-demo', ...at()])).stderr).toMatch(/TOPIC_ALREADY_EXISTS/);
    const again = await keel(['topic', 'create', 'cli-demo', '--partitions', '1', '--if-not-exists', ...at()]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/topic cli-demo exists already[\s\S]*3 partitions/);
    const described = await keel(['topic', 'describe', 'cli-demo', '--json', ...at()]);
    const t = JSON.parse(described.stdout) as { partitions: { replicas: number[] }[] };
    expect(t.partitions.map((p) => [...p.replicas].sort())).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    const status = await keel(['cluster', 'status', '--json', ...at()]);
    expect(status.code, status.stderr).toBe(0);
  }, 60_000);

  it('produces one record per line and consumes them back', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line-${i}`);
    const produced = await keel(['produce', 'cli-demo', '--json', ...at()], `${lines.join('\n')}\n`);
    expect(produced.code, produced.stderr).toBe(0);
    const acks = produced.stdout.trim().split('\n').map((l) => JSON.parse(l) as { topic: string; partition: number; offset: number; value: string });
    expect(acks.map((a) => a.value).sort()).toEqual([...lines].sort());
    expect(new Set(acks.map((a) => `${a.partition}/${a.offset}`)).size).toBe(300);
    const consumed = await keel(['consume', 'cli-demo', '--from-beginning', '--max', '300', '--json', ...at()]);
    expect(consumed.code, consumed.stderr).toBe(0);
    const records = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { partition: number; offset: number; value: string });
    expect(records.map((r) => r.value).sort()).toEqual([...lines].sort());
    for (const r of records) expect(acks).toContainEqual(expect.objectContaining({ partition: r.partition, offset: r.offset, value: r.value }));
  }, 60_000);

  it('produce --key-separator takes each line\'s key from the line, and consume --print-key prints it', async () => {
    expect((await keel(['topic', 'create', 'cli-keys', '--partitions', '3', ...at()])).code).toBe(0);
    const produced = await keel(['produce', 'cli-keys', '--key-separator', ':', '--json', ...at()], 'alice:a=1\nbob:b:2\nno separator\nalice:a=3\n');
    expect(produced.code).toBe(1);
    const out = produced.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key?: string; value: string; partition?: number; line?: number; error?: { code: string } });
    expect(out.filter((r) => r.error === undefined).map((r) => [r.key, r.value])).toEqual([['alice', 'a=1'], ['bob', 'b:2'], ['alice', 'a=3']]);
    expect(out.find((r) => r.error !== undefined)).toMatchObject({ error: { code: 'INVALID_RECORD' }, line: 3, value: 'no separator' });
    // One key, one partition (murmur2, as Kafka).
    expect(new Set(out.filter((r) => r.key === 'alice').map((r) => r.partition)).size).toBe(1);
    const printed = await keel(['consume', 'cli-keys', '--from-beginning', '--max', '3', '--print-key', ...at()]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout.trim().split('\n').sort()).toEqual(['alice\ta=1', 'alice\ta=3', 'bob\tb:2']);
    expect((await keel(['produce', 'cli-keys', '--key', 'k', '--key-separator', ':', ...at()], 'x:y\n')).code).toBe(2);
  }, 60_000);

  it('topic alter sets configs of a topic, which its partitions apply at once; bad values and unknown topics are refused', async () => {
    expect((await keel(['topic', 'create', 'cli-alter', '--config', 'retention.ms=60000', ...at()])).code).toBe(0);
    expect((await keel(['produce', 'cli-alter', ...at()], `${'x'.repeat(500)}\n`)).code).toBe(0);
    const altered = await keel(['topic', 'alter', 'cli-alter', '--config', 'max.message.bytes=200', '--json', ...at()]);
    expect(altered.code, altered.stderr).toBe(0);
    expect(JSON.parse(altered.stdout)).toMatchObject({ configs: { 'max.message.bytes': '200', 'retention.ms': '60000' } });
    const tooLarge = await keel(['produce', 'cli-alter', ...at()], `${'x'.repeat(500)}\n`);
    expect(tooLarge.code).toBe(1);
    expect(tooLarge.stderr).toMatch(/RECORD_TOO_LARGE/);
    const bad = await keel(['topic', 'alter', 'cli-alter', '--config', 'min.insync.replicas=9', ...at()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_CONFIG/);
    expect((await keel(['topic', 'alter', 'cli-nope', '--config', 'retention.ms=1', ...at()])).stderr).toMatch(/UNKNOWN_TOPIC/);
    expect((await keel(['topic', 'alter', 'cli-alter', ...at()])).code).toBe(2);
    expect((await keel(['topic', 'describe', 'cli-alter', ...at()])).stdout).toMatch(/max\.message\.bytes=200 min\.insync\.replicas=1 retention\.bytes=\d+ retention\.ms=60000/);
    // --delete-config: back to the default, so the record fits again.
    const reverted = await keel(['topic', 'alter', 'cli-alter', '--delete-config', 'max.message.bytes', '--json', ...at()]);
    expect(JSON.parse(reverted.stdout)).toMatchObject({ configs: { 'max.message.bytes': '1048588', 'retention.ms': '60000' } });
    expect((await keel(['produce', 'cli-alter', ...at()], `${'x'.repeat(500)}\n`)).code).toBe(0);
  }, 60_000);

  it('topic alter --partitions grows a topic: the new partitions get leaders and records; it never shrinks', async () => {
    expect((await keel(['topic', 'create', 'cli-grow', '--partitions', '2', ...at()])).code).toBe(0);
    const grown = await keel(['topic', 'alter', 'cli-grow', '--partitions', '4', '--json', ...at()]);
    expect(grown.code, grown.stderr).toBe(0);
    const t = JSON.parse(grown.stdout) as { partitions: { partition: number; leader: number }[] };
    expect(t.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    expect(t.partitions.every((p) => p.leader !== 0)).toBe(true);
    const lines = Array.from({ length: 40 }, (_, i) => `k${i}:v${i}`);
    const produced = await keel(['produce', 'cli-grow', '--key-separator', ':', '--json', ...at()], `${lines.join('\n')}\n`);
    expect(produced.code, produced.stderr).toBe(0);
    const used = new Set(produced.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { partition: number }).partition));
    expect([...used].some((p) => p >= 2)).toBe(true);
    const consumed = await keel(['consume', 'cli-grow', '--from-beginning', '--max', '40', ...at()]);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual(lines.map((l) => l.slice(l.indexOf(':') + 1)).sort());
    const shrink = await keel(['topic', 'alter', 'cli-grow', '--partitions', '3', ...at()]);
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toMatch(/has 4 partitions; the count can only grow.*INVALID_PARTITIONS/);
  }, 60_000);

  it('a consumer group resumes where its last run stopped, across partitions, and each group has its own place', async () => {
    const created = await keel(['topic', 'create', 'cli-group', '--partitions', '3', ...at()]);
    expect(created.code, created.stderr).toBe(0);
    const lines = Array.from({ length: 90 }, (_, i) => `g-${i}`);
    expect((await keel(['produce', 'cli-group', ...at()], `${lines.join('\n')}\n`)).code).toBe(0);
    const run = async (group: string, max: number): Promise<string[]> => {
      const r = await keel(['consume', 'cli-group', '--group', group, '--from-beginning', '--max', String(max), '--json', ...at()]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { partition: number; offset: number }))
        .map((x) => `${x.partition}/${x.offset}`);
    };
    const first = await run('readers', 40);
    const second = await run('readers', 50);
    expect(first).toHaveLength(40);
    expect(second).toHaveLength(50);
    // Together exactly the 90 records, none twice: the second run started at the first one's commits.
    expect(new Set([...first, ...second]).size).toBe(90);
    const fetched = await keel(['consume', 'cli-group', '--group', 'others', '--from-beginning', '--max', '90', '--json', ...at()]);
    expect(fetched.stdout.trim().split('\n')).toHaveLength(90);
    const bad = await keel(['consume', 'cli-group', '--group', 'readers', '--partition', '0', '--offset', '3', ...at()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--offset cannot be used with --group/);

    // Where the groups stand: every partition read to its end, so no lag (JSON) and a table.
    const groups = await keel(['group', 'list', '--json', ...at()]);
    expect(JSON.parse(groups.stdout)).toEqual({ groups: ['others', 'readers'] });
    const described = await keel(['group', 'describe', 'readers', '--json', ...at()]);
    const { partitions } = JSON.parse(described.stdout) as { partitions: { topic: string; partition: number; committed: number; logEnd: number; lag: number }[] };
    expect(partitions.map((p) => [p.topic, p.partition, p.lag])).toEqual([['cli-group', 0, 0], ['cli-group', 1, 0], ['cli-group', 2, 0]]);
    expect(partitions.reduce((n, p) => n + p.committed, 0)).toBe(90);
    const table = await keel(['group', 'describe', 'readers', ...at()]);
    expect(table.stdout).toMatch(/TOPIC\s+PARTITION\s+COMMITTED\s+LOG END\s+LAG/);
    const nobody = await keel(['group', 'describe', 'nobody', ...at()]);
    expect([nobody.code, nobody.stderr]).toEqual([1, 'error: consumer group nobody does not exist (no committed offsets, no members)\n']);

    // A reset is a plan until --execute; executed, the group reads partition 0 again from its start.
    const plan = await keel(['group', 'reset', 'readers', '--topic', 'cli-group', '--partition', '0', '--to-earliest', '--json', ...at()]);
    expect(JSON.parse(plan.stdout)).toMatchObject({ executed: false, partitions: [{ partition: 0, to: 0 }] });
    const p0 = partitions[0]!.committed;
    expect(JSON.parse((await keel(['group', 'describe', 'readers', '--json', ...at()])).stdout).partitions[0].committed).toBe(p0);
    const executed = await keel(['group', 'reset', 'readers', '--topic', 'cli-group', '--partition', '0', '--to-earliest', '--execute', ...at()]);
    expect(executed.code, executed.stderr).toBe(0);
    const again = await run('readers', p0);
    expect(again.every((x) => x.startsWith('0/'))).toBe(true);
    expect((await keel(['group', 'reset', 'readers', '--topic', 'cli-group', ...at()])).code).toBe(2);
    // An offset past the log end resets to the log end, with a note (as Kafka does): a group committed past
    // the end would skip the records written up to it, and its readers could never bring it back.
    const beyond = await keel(['group', 'reset', 'readers', '--topic', 'cli-group', '--partition', '0', '--to-offset', '999999', ...at()]);
    expect(beyond.stderr).toMatch(/offset 999999 is outside the log of partition 0; resetting it to \d+ instead/);
    const beyondJson = await keel(['group', 'reset', 'readers', '--topic', 'cli-group', '--partition', '0', '--to-offset', '999999', '--json', ...at()]);
    expect(JSON.parse(beyondJson.stdout)).toMatchObject({ partitions: [{ partition: 0, to: p0, clamped: true }] });
    // Deleting a group: it is gone from the list; deleting it again fails.
    expect((await keel(['group', 'delete', 'others', ...at()])).stdout).toMatch(/deleted consumer group others/);
    expect(JSON.parse((await keel(['group', 'list', '--json', ...at()])).stdout)).toEqual({ groups: ['readers'] });
    expect((await keel(['group', 'delete', 'others', ...at()])).code).toBe(1);
    const deletedAgain = await keel(['group', 'delete', 'others', '--json', ...at()]);
    expect([deletedAgain.code, JSON.parse(deletedAgain.stdout)]).toEqual([1, { group: 'others', deleted: false }]);
  }, 60_000);

  it('a following group consumer stopped with SIGTERM (a supervisor\'s stop) commits what it printed, as Ctrl-C does', async () => {
    expect((await keel(['topic', 'create', 'cli-term', '--partitions', '1', ...at()])).code).toBe(0);
    expect((await keel(['produce', 'cli-term', ...at()], 't0\nt1\nt2\n')).code).toBe(0);
    const child = spawn(process.execPath, [KEEL, 'consume', 'cli-term', '--group', 'term', '--from-beginning', ...at()], { stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: string[] = [];
    await new Promise<void>((done) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        printed.push(line);
        if (printed.length === 3) done();
      });
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code).toBe(0);
    expect(printed).toEqual(['t0', 't1', 't2']);
    const described = JSON.parse((await keel(['group', 'describe', 'term', '--json', ...at()])).stdout) as { partitions: { committed: number }[] };
    expect(described.partitions.map((p) => p.committed)).toEqual([3]);
  }, 60_000);

  it('two consumers of one group split the partitions; when one stops, the other takes them all over', async () => {
    expect((await keel(['topic', 'create', 'cli-split', '--partitions', '4', ...at()])).code).toBe(0);
    type Line = { partition: number; offset: number; value: string };
    const start = (): { child: ChildProcess; lines: Line[] } => {
      const child = spawn(process.execPath, [KEEL, 'consume', 'cli-split', '--group', 'split', '--json', ...at()], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lines: Line[] = [];
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => lines.push(JSON.parse(l) as Line));
      return { child, lines };
    };
    type Member = { memberId: string; partitions: number[] };
    const members = async (): Promise<Member[]> => (JSON.parse((await keel(['group', 'describe', 'split', '--json', ...at()])).stdout) as { members: Member[] }).members;
    const until = async <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
      for (let i = 0; i < 150; i++) {
        const v = await read();
        if (ok(v)) return v;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await read())}`);
    };
    const stopped = (child: ChildProcess): Promise<number | null> => new Promise((done) => {
      if (child.exitCode !== null) done(child.exitCode);
      else child.on('exit', (c) => done(c));
    });
    const a = start();
    await until('one member with every partition', members, (m) => m.length === 1 && m[0]!.partitions.length === 4);
    const b = start();
    const split = await until('two members with two partitions each', members, (m) => m.length === 2 && m.every((x) => x.partitions.length === 2));
    expect(split.flatMap((m) => m.partitions).sort()).toEqual([0, 1, 2, 3]);
    const produce = async (from: number, n: number): Promise<void> => {
      const input = Array.from({ length: n }, (_, i) => `k${from + i}:v${from + i}`).join('\n');
      expect((await keel(['produce', 'cli-split', '--key-separator', ':', ...at()], `${input}\n`)).code).toBe(0);
    };
    await produce(0, 100);
    await until('100 records printed', async () => a.lines.length + b.lines.length, (n) => n >= 100);
    // Each record printed once, by the member owning its partition.
    expect([...a.lines, ...b.lines].map((l) => l.value).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`).sort());
    const partitionsOf = (lines: Line[]): number[] => [...new Set(lines.map((l) => l.partition))];
    const withinOneShare = (ps: number[]): boolean => split.some((m) => ps.every((p) => m.partitions.includes(p)));
    expect(withinOneShare(partitionsOf(a.lines)) && withinOneShare(partitionsOf(b.lines))).toBe(true);
    expect(partitionsOf(a.lines).filter((p) => partitionsOf(b.lines).includes(p))).toEqual([]);
    b.child.kill('SIGTERM');
    expect(await stopped(b.child)).toBe(0);
    await until('the remaining member with every partition', members, (m) => m.length === 1 && m[0]!.partitions.length === 4);
    const before = a.lines.length;
    await produce(100, 20);
    await until('20 more records printed by the remaining member', async () => a.lines.length, (n) => n >= before + 20);
    expect(a.lines.slice(before).map((l) => l.value).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `v${100 + i}`).sort());
    a.child.kill('SIGTERM');
    expect(await stopped(a.child)).toBe(0);
    const after = JSON.parse((await keel(['group', 'describe', 'split', '--json', ...at()])).stdout) as { members: Member[]; partitions: { committed: number; lag: number }[] };
    expect(after.members).toEqual([]);
    expect(after.partitions.map((p) => p.lag)).toEqual([0, 0, 0, 0]);
    // Without members, the group can be deleted (with members it is NON_EMPTY_GROUP).
    expect((await keel(['group', 'delete', 'split', ...at()])).code).toBe(0);
  }, 90_000);

  it('consume --timeout stops once no record has come for that long, committing the group\'s progress', async () => {
    expect((await keel(['topic', 'create', 'cli-idle', '--partitions', '2', ...at()])).code).toBe(0);
    expect((await keel(['produce', 'cli-idle', ...at()], 'i0\ni1\ni2\n')).code).toBe(0);
    const startedMs = Date.now();
    const consumed = await keel(['consume', 'cli-idle', '--group', 'idle', '--from-beginning', '--timeout', '1.5', ...at()]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual(['i0', 'i1', 'i2']);
    expect(Date.now() - startedMs).toBeLessThan(15_000);
    const described = JSON.parse((await keel(['group', 'describe', 'idle', '--json', ...at()])).stdout) as { partitions: { committed: number }[] };
    expect(described.partitions.reduce((n, p) => n + p.committed, 0)).toBe(3);
    // An offset past the log end starts at the end, with a note, as Kafka's console consumer resets there.
    const beyond = await keel(['consume', 'cli-idle', '--partition', '0', '--offset', '999', '--timeout', '1', ...at()]);
    expect(beyond.code, beyond.stderr).toBe(0);
    expect(beyond.stdout).toBe('');
    expect(beyond.stderr).toMatch(/offset 999 is outside the log of partition 0; starting at \d+ instead/);
  }, 60_000);

  it('produces a file larger than the producer buffer whole, and stops quietly when its reader goes', async () => {
    const count = 120_000; // past the producer's bufferedRecordsMax (100,000)
    const created = await keel(['topic', 'create', 'cli-big', '--partitions', '3', ...at()]);
    expect(created.code, created.stderr).toBe(0);
    const lines = Array.from({ length: count }, (_, i) => String(i));
    const produced = await keel(['produce', 'cli-big', ...at()], `${lines.join('\n')}\n`);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toMatch(new RegExp(`^${count} records acknowledged by cli-big`));
    // `keel consume ... | head -1`: the reader closes the pipe; the command ends with 0 and no stack trace.
    const consumer = spawn(process.execPath, [KEEL, 'consume', 'cli-big', '--from-beginning', ...at()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    consumer.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    consumer.stdout.once('data', () => consumer.stdout.destroy());
    const code = await new Promise<number | null>((done) => consumer.on('close', done));
    expect(stderr).not.toMatch(/EPIPE|at /);
    expect(code).toBe(0);
  }, 90_000);

  it('refuses bad input with a reason and a non-zero exit code', async () => {
    const badName = await keel(['topic', 'create', 'no/slashes', ...at()]);
    expect(badName.code).not.toBe(0);
    expect(badName.stderr).toMatch(/INVALID_TOPIC|invalid/i);
    const unknown = await keel(['topic', 'describe', 'no-such-topic', ...at()]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/does not exist|UNKNOWN_TOPIC/);
    const small = await keel(['topic', 'create', 'cli-small', '--partitions', '1', '--replicas', '1', '--config', 'max.message.bytes=200', ...at()]);
    expect(small.code, small.stderr).toBe(0);
    const tooLarge = await keel(['produce', 'cli-small', ...at()], `${'x'.repeat(1_000)}\n`);
    expect(tooLarge.code).not.toBe(0);
    expect(tooLarge.stderr).toMatch(/RECORD_TOO_LARGE|too large/i);
    // With --json the refused line is named by its number, and only its start is repeated.
    const tooLargeJson = await keel(['produce', 'cli-small', '--json', ...at()], `fits\n${'y'.repeat(100_000)}\n`);
    expect(tooLargeJson.code).toBe(1);
    const [fits, refused] = tooLargeJson.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(fits).toMatchObject({ value: 'fits', offset: 0 });
    expect(refused).toEqual({ error: { code: 'RECORD_TOO_LARGE', message: expect.any(String) as unknown }, line: 2, value: 'y'.repeat(100), truncated: true });
    // 100 characters, not 100 UTF-16 units: an emoji is never cut in half.
    const emoji = await keel(['produce', 'cli-small', '--json', ...at()], `${'a'.repeat(99)}${'\u{1F600}'.repeat(60)}\n`);
    expect(JSON.parse(emoji.stdout.trim()) as unknown).toMatchObject({ line: 1, value: `${'a'.repeat(99)}\u{1F600}`, truncated: true });
    // Names that differ only in '.' against '_' collide, as in Kafka.
    expect((await keel(['topic', 'create', 'cli.dotted', '--partitions', '1', ...at()])).code).toBe(0);
    const collides = await keel(['topic', 'create', 'cli_dotted', '--partitions', '1', ...at()]);
    expect(collides.code).toBe(1);
    expect(collides.stderr).toMatch(/collides with existing topic "cli\.dotted".*INVALID_TOPIC/);
    const badConfig = await keel(['topic', 'create', 'cli-bad-config', '--config', 'no.such.config=1', ...at()]);
    expect(badConfig.code).not.toBe(0);
    expect(badConfig.stderr).toMatch(/INVALID_CONFIG|config/i);
    const unreachable = await keel(['topic', 'list', '--bootstrap', '127.0.0.1:1', '--timeout', '2']);
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(/127\.0\.0\.1:1/);
    for (const bad of ['abc', '0', '-1', '1e1']) expect((await keel(['topic', 'list', '--timeout', bad, ...at()])).code).toBe(2);
    // Usage errors the argument parser finds exit 2 as well; help exits 0.
    for (const usage of [['topic', 'create', '--bogus'], ['frobnicate'], ['topic', 'create'], ['group', 'reset', 'g1']]) expect((await keel(usage)).code, usage.join(' ')).toBe(2);
    expect((await keel(['topic', '--help'])).code).toBe(0);
    expect((await keel(['topic', 'create', 'cli-hex', '--partitions', '0x2', ...at()])).code).toBe(2);
    // More partition replicas than three brokers take (1,000 each): refused before anything is created.
    const huge = await keel(['topic', 'create', 'cli-huge', '--partitions', '1001', '--replicas', '3', ...at()]);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/3 brokers take at most 3000 \(1000 each\).*INVALID_PARTITIONS/);
  }, 60_000);

  it('a second `cluster up` on a data directory in use fails at once, naming the nodes that exited', async () => {
    const startedMs = Date.now();
    const second = await keel(['cluster', 'up', '--data-dir', dataDir, '--base-port', String(basePort + 10)]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/node \d exited \(code 1\).* before the cluster was ready/);
    expect(Date.now() - startedMs).toBeLessThan(30_000);
  }, 60_000);

  it('gives up after --timeout on an address that accepts connections and never answers', async () => {
    const silent = createServer(() => {}); // takes the connection, never speaks HTTP/2
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const port = (silent.address() as AddressInfo).port;
    try {
      const startedMs = Date.now();
      const r = await keel(['cluster', 'status', '--bootstrap', `127.0.0.1:${port}`, '--timeout', '2']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/DEADLINE_EXCEEDED|CONNECTION_FAILED/);
      expect(Date.now() - startedMs).toBeLessThan(8_000);
    } finally {
      silent.close();
    }
  }, 30_000);

  it('stops its nodes when `cluster up` itself is killed with SIGKILL', async () => {
    expect(nodePids.length).toBe(3);
    expect(nodePids.every(alive)).toBe(true);
    up.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while (nodePids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(nodePids.filter(alive)).toEqual([]);
  }, 30_000);
});
