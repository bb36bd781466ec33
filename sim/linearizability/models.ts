// Ready models for checkLinearizable: a register, a key-value map partitioned per key, and the
// controller's topic catalogue expressed as that map.
export { registerModel, type RegisterInput, type RegisterModel, type RegisterOutput, type RegisterValue } from './register-model.ts';
export { mapModel, type MapInput, type MapModel, type MapModelOptions, type MapOutput, type MapState } from './map-model.ts';
export { topicsModel, type TopicConfig, type TopicInput, type TopicOutput } from './topics-model.ts';
