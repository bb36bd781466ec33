// The standard gRPC health service (grpc.health.v1.Health, net/proto/grpc/health/v1/health.proto), so
// that load balancers, Kubernetes probes and grpc_health_probe can ask a node whether to send it work.
// Readiness: the whole server ("") and keel.v1.Keel are SERVING while the node is ready (a controller
// leader exists, this broker is registered, unfenced and caught up: KeelNode.readiness) and NOT_SERVING
// otherwise, and for good once the node begins to shut down. Liveness is the process answering at all.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { GrpcService } from './grpc-server.ts';

export const HEALTH_PROTO_PATH = fileURLToPath(new URL('./proto/grpc/health/v1/health.proto', import.meta.url));

const root = protobuf.loadSync(HEALTH_PROTO_PATH);
root.resolveAll();
const RequestType = root.lookupType('grpc.health.v1.HealthCheckRequest');
const ResponseType = root.lookupType('grpc.health.v1.HealthCheckResponse');
const Status = root.lookupEnum('grpc.health.v1.HealthCheckResponse.ServingStatus').values as Readonly<Record<string, number>>;

/** HealthCheckResponse.ServingStatus numbers, read from the schema. */
export const SERVING_STATUS = {
  UNKNOWN: Status['UNKNOWN'] as number,
  SERVING: Status['SERVING'] as number,
  NOT_SERVING: Status['NOT_SERVING'] as number,
  SERVICE_UNKNOWN: Status['SERVICE_UNKNOWN'] as number,
} as const;

/** What a deserializer hands over for bytes that are not a HealthCheckRequest. */
const MALFORMED = Symbol('malformed');

function requestDeserialize(b: Buffer): { service: string } | typeof MALFORMED {
  try {
    const m = RequestType.toObject(RequestType.decode(b), { defaults: true }) as { service?: unknown };
    return typeof m.service === 'string' ? { service: m.service } : MALFORMED;
  } catch {
    return MALFORMED;
  }
}

const serialize = (type: protobuf.Type) => (v: unknown): Buffer => Buffer.from(type.encode(type.fromObject(v as Record<string, unknown>)).finish());
const deserialize = (type: protobuf.Type) => (b: Buffer): unknown => type.toObject(type.decode(b), { enums: Number, defaults: true });

function method(name: string, responseStream: boolean): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/grpc.health.v1.Health/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: serialize(RequestType),
    requestDeserialize,
    responseSerialize: serialize(ResponseType),
    responseDeserialize: deserialize(ResponseType),
  };
}

export const HEALTH_SERVICE_DEFINITION: grpc.ServiceDefinition = { Check: method('Check', false), Watch: method('Watch', true) };

export interface HealthServiceOptions {
  /** Service names this node reports on. */
  readonly services?: readonly string[];
  /** How often watched statuses are re-evaluated. */
  readonly watchPollMs?: number;
  /** Watch calls open at once; more are refused with RESOURCE_EXHAUSTED. */
  readonly watchersMax?: number;
}

export const KEEL_HEALTH_SERVICES: readonly string[] = ['', 'keel.v1.Keel'];

interface Watcher {
  readonly call: grpc.ServerWritableStream<unknown, unknown>;
  readonly service: string;
  last: number;
}

export class HealthService implements GrpcService {
  private readonly services: ReadonlySet<string>;
  private readonly watchPollMs: number;
  private readonly watchersMax: number;
  private readonly watchers = new Set<Watcher>();
  private poller: NodeJS.Timeout | null = null;
  private shuttingDown = false;

  /** `ready` is asked on every Check and every watch poll (KeelNode.readiness().ready). */
  constructor(private readonly ready: () => boolean, options: HealthServiceOptions = {}) {
    this.services = new Set(options.services ?? KEEL_HEALTH_SERVICES);
    this.watchPollMs = options.watchPollMs ?? 250;
    this.watchersMax = options.watchersMax ?? 1_024;
  }

  /** The status of `service`, or SERVICE_UNKNOWN. */
  status(service: string): number {
    if (!this.services.has(service)) return SERVING_STATUS.SERVICE_UNKNOWN;
    return !this.shuttingDown && this.ready() ? SERVING_STATUS.SERVING : SERVING_STATUS.NOT_SERVING;
  }

  /** NOT_SERVING from now on (a controlled shutdown began): balancers drain the node first. */
  setShuttingDown(): void {
    this.shuttingDown = true;
    this.pollWatchers();
  }

  register(server: grpc.Server): void {
    server.addService(HEALTH_SERVICE_DEFINITION, {
      Check: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const req = call.request as { service: string } | typeof MALFORMED;
        if (req === MALFORMED) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'malformed HealthCheckRequest' });
        const status = this.status(req.service);
        if (status === SERVING_STATUS.SERVICE_UNKNOWN) return callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${req.service.slice(0, 200)}"` });
        callback(null, { status });
      },
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => this.watch(call),
    });
  }

  /** Ends every Watch (the server is about to stop). */
  close(): void {
    this.shuttingDown = true;
    for (const w of [...this.watchers]) {
      this.unwatch(w);
      if (!w.call.cancelled) w.call.end();
    }
  }

  private watch(call: grpc.ServerWritableStream<unknown, unknown>): void {
    const req = call.request as { service: string } | typeof MALFORMED;
    if (req === MALFORMED) return void call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'malformed HealthCheckRequest' });
    if (this.watchers.size >= this.watchersMax) return void call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: `${this.watchersMax} health watches are open` });
    const w: Watcher = { call, service: req.service, last: this.status(req.service) };
    this.watchers.add(w);
    const gone = (): void => this.unwatch(w);
    call.on('cancelled', gone);
    call.on('error', gone);
    call.on('close', gone);
    call.write({ status: w.last });
    if (this.poller === null) {
      this.poller = setInterval(() => this.pollWatchers(), this.watchPollMs);
      this.poller.unref();
    }
  }

  private unwatch(w: Watcher): void {
    this.watchers.delete(w);
    if (this.watchers.size === 0 && this.poller !== null) {
      clearInterval(this.poller);
      this.poller = null;
    }
  }

  private pollWatchers(): void {
    for (const w of this.watchers) {
      const now = this.status(w.service);
      if (now === w.last || w.call.cancelled) continue;
      w.last = now;
      w.call.write({ status: now });
    }
  }
}
