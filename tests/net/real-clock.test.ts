// The real Clock port: monotonic now(), zero-delay timers that run after the current work (and before
// later-armed longer timers), cancellation, and unref'd timers that let a stopped process exit.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RealClock } from '../../net/real-clock.ts';

const root = join(import.meta.dirname, '..', '..');

describe('real clock', () => {
  it('runs zero-delay timers after the current work, in order, before longer timers', async () => {
    const clock = new RealClock();
    const log: string[] = [];
    await new Promise<void>((resolve) => {
      clock.setTimer(5, () => {
        log.push('5ms');
        resolve();
      });
      clock.setTimer(0, () => log.push('turn 1'));
      clock.setTimer(0, () => log.push('turn 2'));
      log.push('current work');
    });
    expect(log).toEqual(['current work', 'turn 1', 'turn 2', '5ms']);
    expect(clock.pendingCount).toBe(0);
  });

  it('runs a zero delay right after the current callback while idle, and after the I/O of the pass while busy', async () => {
    let busy = false;
    const clock = new RealClock({ isBusy: () => busy });
    const log: string[] = [];
    await new Promise<void>((resolve) => {
      // An immediate armed first stands for the pass's other I/O callbacks.
      setImmediate(() => log.push('rest of the pass'));
      clock.setTimer(0, () => log.push('idle: soon'));
      busy = true;
      clock.setTimer(0, () => {
        log.push('busy: after the pass');
        resolve();
      });
    });
    expect(log).toEqual(['idle: soon', 'rest of the pass', 'busy: after the pass']);
    expect(clock.pendingCount).toBe(0);
  });

  it('a zero delay armed by a soon timer waits for the pass (a turn asking for another never starves I/O)', async () => {
    const clock = new RealClock();
    const log: string[] = [];
    await new Promise<void>((resolve) => {
      setImmediate(() => log.push('rest of the pass'));
      clock.setTimer(0, () => {
        log.push('turn');
        clock.setTimer(0, () => {
          log.push('next turn');
          resolve();
        });
      });
    });
    expect(log).toEqual(['turn', 'rest of the pass', 'next turn']);
  });

  it('waits at least the delay on a monotonic clock, and cancels', async () => {
    const clock = new RealClock();
    const fired: string[] = [];
    const cancelled = clock.setTimer(5, () => fired.push('cancelled'));
    const cancelledNow = clock.setTimer(0, () => fired.push('cancelled immediate'));
    clock.cancelTimer(cancelled);
    clock.cancelTimer(cancelledNow);
    clock.cancelTimer(cancelled); // twice is harmless
    const start = clock.now();
    const elapsed = await new Promise<number>((resolve) => clock.setTimer(20, () => resolve(clock.now() - start)));
    expect(elapsed).toBeGreaterThanOrEqual(19); // timers may round by up to a millisecond
    expect(fired).toEqual([]);
    expect(Math.abs(clock.wallMs() - Date.now())).toBeLessThan(1_000);
  });

  it('cancelAll stops every armed timer', async () => {
    const clock = new RealClock();
    let fired = 0;
    for (let i = 0; i < 10; i++) clock.setTimer(i % 2 === 0 ? 0 : 2, () => fired++);
    clock.cancelAll();
    await new Promise((r) => setTimeout(r, 10));
    expect(fired).toBe(0);
    expect(clock.pendingCount).toBe(0);
  });

  it('refuses negative or non-finite delays (programmer errors)', () => {
    const clock = new RealClock();
    expect(() => clock.setTimer(-1, () => {})).toThrow(/negative/);
    expect(() => clock.setTimer(Number.NaN, () => {})).toThrow(/finite/);
  });

  it('with unrefTimers, an armed timer does not keep the process alive', () => {
    const script = (unref: boolean): string => `
      import { RealClock } from './net/real-clock.ts';
      const clock = new RealClock({ unrefTimers: ${unref} });
      clock.setTimer(1000, () => console.log('fired'));
      clock.setTimer(0, () => console.log('turn'));`;
    const run = (unref: boolean) => spawnSync(process.execPath, ['--import', './bin/register-ts.mjs', '--input-type=module', '-e', script(unref)], { cwd: root, encoding: 'utf8', timeout: 10_000 });
    // Had the timer kept the process alive, it would have fired and printed.
    const r = run(true);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('fired');
    // Without unref the same timer holds the process until it fires.
    const held = run(false);
    expect(held.stdout.trim().split('\n')).toEqual(['turn', 'fired']);
  });
});
