// The benchmarks' CPU meter (bench/process-cpu.ts): reads /proc on Linux, says null where it cannot.
import { describe, expect, it } from 'vitest';
import { cpuMeter, processCpuMs } from '../../bench/process-cpu.ts';

const onLinux = process.platform === 'linux';

describe('process CPU meter', () => {
  it.runIf(onLinux)('reads this process and counts the CPU burned after the start', () => {
    expect(processCpuMs(process.pid)).toBeGreaterThan(0);
    const meter = cpuMeter([process.pid]);
    expect(meter()).toBeLessThan(50);
    // Spins until the meter shows 50 ms (in 10 ms ticks); on a busy machine that takes longer, not less.
    const giveUpAt = performance.now() + 10_000;
    while ((meter() ?? 0) < 50 && performance.now() < giveUpAt);
    expect(meter()).toBeGreaterThanOrEqual(50);
  });

  it('says null for a process that does not exist, alone or among others', () => {
    const missingPid = 2 ** 22 + 1; // above Linux's pid_max limit
    expect(processCpuMs(missingPid)).toBeNull();
    expect(cpuMeter([process.pid, missingPid])()).toBeNull();
  });
});
