// The controller's topic catalogue as a map model: topic name -> configuration (partition count and
// retention.ms). Admin operations translate one to one, so the controller's history checker only renames
// fields:
//
//   create(name, partitions)   -> OK | ALREADY_EXISTS  { type: 'create', key: name, value: { partitions, retentionMs } } -> { created }
//   alter(name, retention.ms)  -> OK | UNKNOWN         { type: 'update', key: name, value: { retentionMs } }           -> { existed }
//   grow(name, partitions)     -> OK | UNKNOWN         { type: 'update', key: name, value: { partitions } }            -> { existed }
//   delete(name)               -> OK | UNKNOWN         { type: 'delete', key: name }                                   -> { existed }
//   describe(name)             -> config | UNKNOWN     { type: 'get', key: name }                      -> { found: true, value } | { found: false }
//   list()                     -> names                { type: 'list' }                                                -> { keys: names }
//
// A timed-out or crashed request is recorded with output undefined. A history containing a list
// (with a known outcome) is checked as one whole-catalogue partition; otherwise topic by topic.
import { mapModel, type MapInput, type MapModel, type MapOutput } from './map-model.ts';

export interface TopicConfig {
  readonly partitions: number;
  readonly retentionMs: number;
}

export type TopicInput = MapInput<TopicConfig>;
export type TopicOutput = MapOutput<TopicConfig>;

function describeTopicOperation(input: TopicInput, output: TopicOutput | undefined): string {
  switch (input.type) {
    case 'create':
      return `create topic ${input.key} (${input.value.partitions} partitions, retention.ms=${input.value.retentionMs}) -> ${output?.type !== 'create' ? '?' : output.created ? 'OK' : 'ALREADY_EXISTS'}`;
    case 'update': {
      const what = input.value.partitions !== undefined ? `to ${input.value.partitions} partitions` : `retention.ms=${String(input.value.retentionMs)}`;
      return `alter topic ${input.key} (${what}) -> ${output?.type !== 'update' ? '?' : output.existed ? 'OK' : 'UNKNOWN'}`;
    }
    case 'delete':
      return `delete topic ${input.key} -> ${output?.type !== 'delete' ? '?' : output.existed ? 'OK' : 'UNKNOWN'}`;
    case 'get':
      return `describe topic ${input.key} -> ${output?.type !== 'get' ? '?' : output.found ? `${output.value.partitions} partitions, retention.ms=${output.value.retentionMs}` : 'UNKNOWN'}`;
    case 'put':
      return `overwrite topic ${input.key} (${input.value.partitions} partitions, retention.ms=${input.value.retentionMs}) -> ${output === undefined ? '?' : 'OK'}`;
    case 'list':
      return `list topics -> ${output?.type !== 'list' ? '?' : JSON.stringify([...output.keys].sort())}`;
  }
}

export function topicsModel(): MapModel<TopicConfig> {
  // valueKey is explicit so configurations compare by content, not by JSON property order; an update sets
  // the fields it has (partitions, retention) and keeps the others.
  return {
    ...mapModel<TopicConfig>({
      valueKey: (c) => `${c.partitions}/${c.retentionMs}`,
      merge: (current, patch) => {
        const [partitions, retentionMs] = current.split('/');
        return `${patch.partitions ?? partitions}/${patch.retentionMs ?? retentionMs}`;
      },
    }),
    describeOperation: describeTopicOperation,
  };
}
