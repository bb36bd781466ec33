// The controller's topic catalogue as a map model: topic name -> configuration. Admin operations
// translate one to one, so the controller's history checker only renames fields:
//
//   create(name, partitions) -> OK | ALREADY_EXISTS   { type: 'create', key: name, value: { partitions } } -> { created: true | false }
//   delete(name)             -> OK | UNKNOWN          { type: 'delete', key: name }                      -> { existed: true | false }
//   describe(name)           -> {partitions} | UNKNOWN { type: 'get', key: name }                        -> { found: true, value } | { found: false }
//   list()                   -> names                 { type: 'list' }                                   -> { keys: names }
//
// A timed-out or crashed request is recorded with output undefined. A history containing a list
// (with a known outcome) is checked as one whole-catalogue partition; otherwise topic by topic.
import { mapModel, type MapInput, type MapModel, type MapOutput } from './map-model.ts';

export interface TopicConfig {
  readonly partitions: number;
}

export type TopicInput = MapInput<TopicConfig>;
export type TopicOutput = MapOutput<TopicConfig>;

function describeTopicOperation(input: TopicInput, output: TopicOutput | undefined): string {
  switch (input.type) {
    case 'create':
      return `create topic ${input.key} (${input.value.partitions} partitions) -> ${output?.type !== 'create' ? '?' : output.created ? 'OK' : 'ALREADY_EXISTS'}`;
    case 'delete':
      return `delete topic ${input.key} -> ${output?.type !== 'delete' ? '?' : output.existed ? 'OK' : 'UNKNOWN'}`;
    case 'get':
      return `describe topic ${input.key} -> ${output?.type !== 'get' ? '?' : output.found ? `${output.value.partitions} partitions` : 'UNKNOWN'}`;
    case 'put':
      return `overwrite topic ${input.key} (${input.value.partitions} partitions) -> ${output === undefined ? '?' : 'OK'}`;
    case 'list':
      return `list topics -> ${output?.type !== 'list' ? '?' : JSON.stringify([...output.keys].sort())}`;
  }
}

export function topicsModel(): MapModel<TopicConfig> {
  // valueKey is explicit so configurations compare by content, not by JSON property order.
  return { ...mapModel<TopicConfig>({ valueKey: (c) => `${c.partitions}` }), describeOperation: describeTopicOperation };
}
