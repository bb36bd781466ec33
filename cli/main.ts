// The `keel` command: composition root of the real runtime and of the simulator.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { addSimCommands } from './sim-command.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('keel')
    .description('Keel: a Raft-replicated record broker with a deterministic fault-injection simulator')
    .version(pkg.version)
    .showHelpAfterError();
  addSimCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
