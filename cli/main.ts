// The `keel` command: composition root of the real runtime and of the simulator.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { addClusterCommands } from './cluster-command.ts';
import { addConsumeCommand } from './consume-command.ts';
import { addGroupCommands } from './group-command.ts';
import { addNodeCommands } from './node-command.ts';
import { addProduceCommand } from './produce-command.ts';
import { addSimCommands } from './sim-command.ts';
import { addTopicCommands } from './topic-command.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('keel')
    .description('Keel: a Raft-replicated record broker with a deterministic fault-injection simulator')
    .version(pkg.version)
    .showHelpAfterError()
    // Usage errors the parser finds (unknown option or command, missing argument) exit 2, as the ones the
    // commands find themselves do; --help and --version exit 0. Subcommands inherit this when added.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  addClusterCommands(program);
  addNodeCommands(program);
  addTopicCommands(program);
  addProduceCommand(program);
  addConsumeCommand(program);
  addGroupCommands(program);
  addSimCommands(program);
  return program;
}

// `keel consume ... | head`: once the reader of our output is gone there is no one left to tell
// anything, so a closed pipe ends the command quietly (as for any Unix tool) instead of with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

await buildProgram().parseAsync(process.argv);
