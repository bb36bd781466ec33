// Child process of node-process.test.ts: starts a one-node cluster, waits until it is ready, stops it,
// and then does nothing more. The process must exit by itself: stop() leaves nothing that keeps it alive.
import { startNode } from '../../net/node-process.ts';
import { nodeId } from '../../raft/types.ts';

const [dir, port] = process.argv.slice(2);
const address = `127.0.0.1:${port}`;
const started = await startNode({
  id: nodeId(1), listen: address, advertise: address, dataDir: dir as string, peers: new Map([[nodeId(1), address]]),
  logLevel: 'silent', logDestination: 'stdout', tickMs: 20, shutdownTimeoutMs: 1_000, serverGraceMs: 100,
});
if (!started.ok) {
  console.error(started.error);
  process.exit(2);
}
const deadline = Date.now() + 15_000;
while (!started.node.readiness().ready) {
  if (Date.now() > deadline) {
    console.error('not ready');
    process.exit(3);
  }
  await new Promise((r) => setTimeout(r, 20));
}
console.log('ready');
await started.stop();
console.log('stopped');
