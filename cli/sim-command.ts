// `keel sim ...`: list scenarios, run seed sweeps, replay seed files, and benchmark the simulator.
import { randomInt } from 'node:crypto';
import { relative } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { SCENARIOS, scenarioByName, type Scenario } from '../scenarios/catalog.ts';
import { DATA_PARTITIONS_DEFAULT, DEFAULT_PARAMS, runGenerated, runSeed, type RunParams } from '../scenarios/runner.ts';
import { readSeedFile, writeSeedFile } from '../scenarios/seed-files.ts';
import type { RunResult } from '../sim/raft-run.ts';
import { fail, printTable } from './output.ts';

interface RunOptions {
  scenario: string;
  system: string;
  seed?: string;
  seeds?: string;
  firstSeed?: string;
  duration?: string;
  json?: boolean;
  trace?: boolean;
  shrink: boolean;
  saveFailures: boolean;
}

/** What `--json` prints for each seed (DESIGN.md §8). */
export function summary(r: RunResult): Record<string, unknown> {
  return { seed: r.seed, scenario: r.scenario, ok: r.ok, violations: r.violations, traceHash: r.traceHash, simulatedMs: r.simulatedMs, wallMs: r.wallMs, events: r.events, stats: r.stats };
}

function parseIntOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got "${v}"`, 2);
  return n;
}

function scenariosFor(name: string): readonly Scenario[] {
  if (name === 'all') return SCENARIOS;
  const s = scenarioByName(name);
  if (s === undefined) fail(`unknown scenario "${name}"; \`keel sim list\` shows them`, 2);
  return [s];
}

function runCommand(o: RunOptions): void {
  const scenarios = scenariosFor(o.scenario);
  const single = parseIntOption(o.seed, 'seed');
  const count = parseIntOption(o.seeds, 'seeds');
  const durationS = o.duration === undefined ? undefined : Number(o.duration);
  if (durationS !== undefined && !(durationS > 0 && durationS <= 3600)) fail(`--duration must be between 0 and 3600 seconds, got "${o.duration}"`, 2);
  if (o.system !== 'keel' && o.system !== 'raft') fail(`--system must be "keel" or "raft", got "${o.system}"`, 2);
  if (o.trace === true && single === undefined) fail('--trace prints one run\'s timeline: give it --seed', 2);
  const params: RunParams = { ...DEFAULT_PARAMS, system: o.system, keepTraceLines: o.trace === true, ...(durationS !== undefined ? { safetyMs: durationS * 1000 } : {}) };
  let seeds: number[];
  if (single !== undefined) seeds = [single];
  else {
    const first = parseIntOption(o.firstSeed, 'first-seed') ?? randomInt(1, 2 ** 31);
    const n = count ?? 1;
    seeds = Array.from({ length: n }, (_, k) => first + k);
    if (!o.json) console.log(`seeds ${first}..${first + n - 1} (repeat with --seeds ${n} --first-seed ${first})`);
  }
  const bar = !o.json && process.stdout.isTTY ? new cliProgress.SingleBar({ format: 'sim {bar} {value}/{total} seeds | {failed} failed | {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(seeds.length, 0, { failed: 0 });
  const results: RunResult[] = [];
  let failed = 0;
  for (const seed of seeds) {
    const scenario = scenarios[seed % scenarios.length] as Scenario;
    const outcome = runSeed(scenario, seed, params, o.shrink ? 60 : 0);
    results.push(outcome.result);
    if (o.trace === true) for (const line of outcome.result.trace ?? []) console.log(line);
    if (o.json) console.log(JSON.stringify(summary(outcome.result)));
    if (!outcome.result.ok) {
      failed++;
      bar?.stop();
      const final = outcome.shrunk ?? { generated: outcome.generated, result: outcome.result };
      const v = outcome.result.violations[0];
      console.error(`\nFAILED seed ${seed} (${scenario.name}): ${v?.checker}: ${v?.message}`);
      if (o.saveFailures) {
        const path = writeSeedFile({ seed, scenario: scenario.name, params, generated: final.generated, failure: final.result.violations, expected: 'fail', traceHash: final.result.traceHash });
        console.error(`shrunk schedule: ${final.generated.schedule.length} fault events (from ${outcome.generated.schedule.length})`);
        console.error(`reproduce: keel sim replay ${relative(process.cwd(), path)}`);
      } else {
        console.error(`reproduce: keel sim run --system ${params.system} --scenario ${scenario.name} --seed ${seed}${durationS !== undefined ? ` --duration ${durationS}` : ''}`);
      }
      bar?.start(seeds.length, results.length, { failed });
    }
    bar?.update(results.length, { failed });
  }
  bar?.stop();
  if (!o.json) printSweepTable(results);
  if (failed > 0) process.exitCode = 1;
}

function printSweepTable(results: readonly RunResult[]): void {
  const byScenario = new Map<string, RunResult[]>();
  for (const r of results) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  const rows = [...byScenario].map(([name, rs]) => {
    const events = rs.reduce((a, r) => a + r.events, 0);
    const wall = rs.reduce((a, r) => a + r.wallMs, 0);
    const sim = rs.reduce((a, r) => a + r.simulatedMs, 0);
    return [name, String(rs.length), String(rs.filter((r) => r.ok).length), String(rs.filter((r) => !r.ok).length), events.toLocaleString('en-US'), `${(sim / 1000).toFixed(0)} s`, `${(wall / 1000).toFixed(1)} s`];
  });
  printTable(['scenario', 'seeds', 'ok', 'failed', 'events', 'simulated', 'wall'], rows);
}

function replayCommand(file: string, o: { trace?: boolean; json?: boolean }): void {
  let doc;
  try {
    doc = readSeedFile(file);
  } catch (e) {
    fail((e as Error).message, 2);
  }
  const params: RunParams = { ...doc.params, keepTraceLines: o.trace === true };
  const r = runGenerated(doc.seed, doc.scenario, doc.generated, params);
  if (o.trace === true) for (const line of r.trace ?? []) console.log(line);
  if (o.json) console.log(JSON.stringify(summary(r)));
  else {
    console.log(`${doc.scenario} seed ${doc.seed}: ${r.ok ? 'ok' : 'FAILED'} (trace ${r.traceHash}, ${r.events} events, ${(r.simulatedMs / 1000).toFixed(1)} s simulated in ${r.wallMs} ms)`);
    for (const v of r.violations) console.log(`  ${v.checker}: ${v.message} (at ${(v.atMs / 1000).toFixed(3)} s)`);
  }
  const wanted = doc.expected === 'pass';
  if (r.ok !== wanted) process.exitCode = 1;
}

/**
 * The standard benchmark scenario: 3 nodes, swarm faults, and either steady proposals to one Raft group
 * (system raft, the default) or the whole system with `partitions` data partitions (system keel).
 */
function benchCommand(o: { json?: boolean; seeds: string; system: string; partitions?: string }): void {
  const n = parseIntOption(o.seeds, 'seeds') ?? 20;
  const swarm = scenarioByName('swarm') as Scenario;
  const system = o.system === 'keel' ? 'keel' : 'raft';
  const partitions = parseIntOption(o.partitions, 'partitions') ?? DATA_PARTITIONS_DEFAULT;
  const params: RunParams = { ...DEFAULT_PARAMS, system, dataPartitions: partitions };
  // Warm-up runs so the JIT settles before measuring.
  for (let s = 0; s < 3; s++) runSeed(swarm, 1_000_000 + s, params, 0);
  let events = 0;
  let simulatedMs = 0;
  const started = performance.now();
  let failures = 0;
  let recordsAcked = 0;
  let writesPerTurnMax = 0;
  for (let s = 1; s <= n; s++) {
    const r = runSeed(swarm, s, params, 0).result;
    events += r.events;
    simulatedMs += r.simulatedMs;
    recordsAcked += r.stats['producedRecordsAcked'] ?? 0;
    writesPerTurnMax = Math.max(writesPerTurnMax, r.stats['writesPerTurnMax'] ?? 0);
    if (!r.ok) failures++;
  }
  const wallMs = performance.now() - started;
  const keel = system === 'keel' ? { partitions, recordsAcked, recordsAckedPerSimulatedSec: Math.round(recordsAcked / (simulatedMs / 1000)) } : {};
  const out = {
    scenario: 'swarm', system, seeds: n, events, eventsPerSec: Math.round(events / (wallMs / 1000)), simulatedMs, wallMs: Math.round(wallMs),
    speedup: Math.round(simulatedMs / wallMs), ...keel, storageSyncsPerNodeTurnMax: writesPerTurnMax, failures,
  };
  if (o.json) console.log(JSON.stringify(out));
  else printTable(Object.keys(out), [Object.values(out).map((v) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v)))]);
}

export function addSimCommands(program: Command): void {
  const sim = program.command('sim').description('the deterministic simulator: fault scenarios, seed sweeps, replays');
  sim.command('list')
    .description('list the named scenarios')
    .option('--json', 'JSON lines')
    .action((o: { json?: boolean }) => {
      if (o.json) for (const s of SCENARIOS) console.log(JSON.stringify({ name: s.name, description: s.description }));
      else printTable(['scenario', 'description'], SCENARIOS.map((s) => [s.name, s.description]));
    });
  sim.command('run')
    .description('run seeds of a scenario (or all); a failure prints how to reproduce it')
    .option('--scenario <name>', 'scenario name, or "all" (seeds cycle through them)', 'all')
    .option('--system <system>', '"keel" (the whole system) or "raft" (one Raft group with a register workload)', 'keel')
    .option('--seed <n>', 'run exactly this seed')
    .option('--seeds <n>', 'run this many consecutive seeds')
    .option('--first-seed <n>', 'first seed of --seeds (default: random, printed)')
    .option('--duration <seconds>', 'length of the fault phase in simulated seconds (default 10)')
    .option('--json', 'one JSON summary per seed')
    .option('--trace', 'with --seed: print the timeline, one line per event')
    .option('--no-shrink', 'do not shrink failing schedules')
    .option('--save-failures', 'write each failure (shrunk) to scenarios/seeds/', true)
    .option('--no-save-failures', 'do not write seed files')
    .action(runCommand);
  sim.command('replay <file>')
    .description('re-run a seed file bit for bit')
    .option('--trace', 'print the timeline: one line per event')
    .option('--json', 'print the JSON summary')
    .action(replayCommand);
  sim.command('bench')
    .description('simulator speed on the standard scenario (3 nodes, steady proposals, swarm faults)')
    .option('--seeds <n>', 'seeds to run', '20')
    .option('--system <system>', '"raft" (steady proposals to one group) or "keel" (the whole system)', 'raft')
    .option('--partitions <n>', 'keel system: data partitions (split over topics d0 and d1)', String(DATA_PARTITIONS_DEFAULT))
    .option('--json', 'one JSON document')
    .action(benchCommand);
}
