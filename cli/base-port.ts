// Listen ports for throwaway clusters (tests, benchmarks). No imports: the transport floor benchmark
// uses it and must load no Keel code.
/**
 * A random base port in [lowest, lowest + span), for tests and benchmarks that run clusters side by side.
 * Keep ranges below Linux's ephemeral range (32768-60999), where the kernel picks the local ports of
 * outgoing connections: one of those could hold a port a node wants to listen on.
 */
export function randomBasePort(lowest: number, span: number): number {
  return lowest + Math.floor(Math.random() * span);
}
