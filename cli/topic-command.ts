// `keel topic create|list|describe|alter|delete`.
import type { Command } from 'commander';
import { KeelError } from '../net/client/errors.ts';
import type { KeelClient, TopicInfo } from '../net/client/keel-client.ts';
import { fail, printTable } from './output.ts';
import { clientOptions, positiveInt, withClient, type ClientOptions } from './client-command.ts';

function parseConfigs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) {
      console.error(`error: --config expects key=value, got "${p}"`);
      process.exit(2);
    }
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

function printTopic(t: TopicInfo): void {
  console.log(`topic ${t.name}: ${t.partitions.length} partition${t.partitions.length === 1 ? '' : 's'}, replication factor ${t.replicationFactor}`);
  const configs = Object.entries(t.configs).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  if (configs.length > 0) console.log(`configs: ${configs.join(' ')}`);
  printTable(['partition', 'leader', 'replicas', 'offline', 'address'], t.partitions.map((p) => [
    String(p.partition),
    p.leader === 0 ? '-' : String(p.leader),
    p.replicas.join(',') + (p.reassigningTo.length > 0 ? ` -> ${p.reassigningTo.join(',')}` : ''),
    p.offline.length === 0 ? '-' : p.offline.join(','),
    p.leaderAddress === '' ? '-' : p.leaderAddress,
  ]));
}

/** Leaders are elected and reported just after a topic is created: the description once they are known. */
const LEADERS_WAIT_MS = 3_000;

async function withLeaders(c: KeelClient, created: TopicInfo): Promise<TopicInfo> {
  const deadline = Date.now() + LEADERS_WAIT_MS;
  let t = created;
  while (t.partitions.some((p) => p.leader === 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    t = await c.describeTopic(t.name);
  }
  return t;
}

export function addTopicCommands(program: Command): void {
  const topic = program.command('topic').description('create, list, describe, alter and delete topics');

  clientOptions(topic.command('create <name>').description('create a topic'))
    .option('--partitions <n>', 'number of partitions', '1')
    .option('--replicas <n>', 'replication factor', '3')
    .option('--config <key=value...>', 'topic config (retention.ms, retention.bytes, max.message.bytes, min.insync.replicas)', [])
    .option('--if-not-exists', 'succeed if the topic exists already (as it is; nothing is changed)')
    .action((name: string, o: ClientOptions & { partitions: string; replicas: string; config: string[]; ifNotExists?: boolean }) => withClient(o, async (c) => {
      const options = { partitions: positiveInt(o.partitions, 'partitions', 1), replicationFactor: positiveInt(o.replicas, 'replicas', 3), configs: parseConfigs(o.config) };
      const created = await c.createTopic(name, options).catch((e: unknown) => {
        if (o.ifNotExists === true && e instanceof KeelError && e.code === 'TOPIC_ALREADY_EXISTS') return null;
        throw e;
      });
      const t = created === null ? await c.describeTopic(name) : await withLeaders(c, created);
      if (o.json) console.log(JSON.stringify(t));
      else {
        console.log(created === null ? `topic ${name} exists already` : `created topic ${name}`);
        printTopic(t);
      }
    }));

  clientOptions(topic.command('list').description('list topics'))
    .action((o: ClientOptions) => withClient(o, async (c) => {
      const names = await c.listTopics();
      if (o.json) console.log(JSON.stringify({ topics: names }));
      else if (names.length === 0) console.log('no topics');
      else printTable(['topic'], names.map((n) => [n]));
    }));

  clientOptions(topic.command('describe <name>').description('partitions, leaders, replicas and configs of a topic'))
    .action((name: string, o: ClientOptions) => withClient(o, async (c) => {
      const t = await c.describeTopic(name);
      if (o.json) console.log(JSON.stringify(t));
      else printTopic(t);
    }));

  clientOptions(topic.command('alter <name>').description('add partitions to a topic, or set its configs (as kafka-topics --alter and kafka-configs --alter)'))
    .option('--config <key=value...>', 'topic config to set (retention.ms, retention.bytes, max.message.bytes, min.insync.replicas)', [])
    .option('--delete-config <key...>', 'topic config to set back to its default', [])
    .option('--partitions <n>', 'grow the topic to this many partitions (keyed records may map to other partitions after)')
    .action((name: string, o: ClientOptions & { config: string[]; deleteConfig: string[]; partitions?: string }) => withClient(o, async (c) => {
      if (o.config.length === 0 && o.deleteConfig.length === 0 && o.partitions === undefined) return fail('give --partitions n, --config key=value or --delete-config key', 2);
      let t: TopicInfo | undefined;
      if (o.partitions !== undefined) t = await withLeaders(c, await c.createPartitions(name, positiveInt(o.partitions, 'partitions', 1)));
      // Configs too, or only configs (with neither, the command has failed above).
      if (o.config.length > 0 || o.deleteConfig.length > 0 || t === undefined) t = await c.alterTopicConfigs(name, parseConfigs(o.config), o.deleteConfig);
      if (o.json) console.log(JSON.stringify(t));
      else {
        console.log(`altered topic ${name}`);
        printTopic(t);
      }
    }));

  clientOptions(topic.command('delete <name>').description('delete a topic and its data'))
    .action((name: string, o: ClientOptions) => withClient(o, async (c) => {
      await c.deleteTopic(name);
      if (o.json) console.log(JSON.stringify({ deleted: name }));
      else console.log(`deleted topic ${name}`);
    }));
}
