// The client API schema (net/proto/keel/v1/client.proto), loaded at runtime with protobufjs — no code
// generation step — and turned into a grpc-js service definition that both the server (net/client-service)
// and the client library (net/client/) use, so the two cannot disagree on paths or encodings.
// Messages are plain objects with camelCase fields; uint64/int64 fields decode to JavaScript numbers.
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export const CLIENT_PROTO_PATH = fileURLToPath(new URL('./proto/keel/v1/client.proto', import.meta.url));

const root = protobuf.loadSync(CLIENT_PROTO_PATH);
root.resolveAll();

export const KeelService = root.lookupService('keel.v1.Keel');
export const ErrorType = root.lookupType('keel.v1.Error');

/** Trailing metadata keys of a failed call (see client.proto). */
export const KEEL_CODE_HEADER = 'keel-code';
export const KEEL_LEADER_HEADER = 'keel-leader';
export const KEEL_LEADER_ADDRESS_HEADER = 'keel-leader-address';

/** Enum numbers read from the schema, so code and schema cannot drift apart. */
export function enumValue(enumName: string, value: string): number {
  const n = root.lookupEnum(`keel.v1.${enumName}`).values[value];
  if (n === undefined) throw new Error(`client.proto lacks ${enumName}.${value}`);
  return n;
}

const CONVERSION: protobuf.IConversionOptions = { longs: Number, enums: Number, bytes: Uint8Array as unknown as typeof String, defaults: true, arrays: true, objects: true, oneofs: true };

function codec(type: protobuf.Type): { serialize: (v: unknown) => Buffer; deserialize: (b: Buffer) => unknown } {
  return {
    serialize: (v: unknown): Buffer => {
      const msg = type.fromObject(v as Record<string, unknown>);
      return Buffer.from(type.encode(msg).finish());
    },
    // Throws on malformed bytes; grpc-js turns that into an INTERNAL status for the call, not a crash.
    deserialize: (b: Buffer): unknown => type.toObject(type.decode(b), CONVERSION),
  };
}

/** The grpc-js definition of keel.v1.Keel, with protobufjs (de)serializers. */
export const KEEL_SERVICE_DEFINITION: grpc.ServiceDefinition = (() => {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of KeelService.methodsArray) {
    m.resolve();
    const req = codec(m.resolvedRequestType as protobuf.Type);
    const res = codec(m.resolvedResponseType as protobuf.Type);
    def[m.name] = {
      path: `/keel.v1.Keel/${m.name}`,
      requestStream: m.requestStream === true,
      responseStream: m.responseStream === true,
      requestSerialize: req.serialize,
      requestDeserialize: req.deserialize,
      responseSerialize: res.serialize,
      responseDeserialize: res.deserialize,
    };
  }
  return def as grpc.ServiceDefinition;
})();
