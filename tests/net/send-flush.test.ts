// SendFlush: pending from a frame's write until the check phase of the same pass of the event loop, where
// Node's HTTP/2 sessions have sent it; and PeerTransport tells it of every frame it writes to a stream.
import { describe, expect, it } from 'vitest';
import { PeerTransport } from '../../net/peer-transport.ts';
import { SendFlush } from '../../net/send-flush.ts';
import { heartbeat, id } from './peer-helpers.ts';

const nextImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SendFlush', () => {
  it('is pending from a send until the immediates of that pass have run', async () => {
    const f = new SendFlush();
    expect(f.pending).toBe(false);
    f.noteSend();
    f.noteSend();
    expect(f.pending).toBe(true);
    await Promise.resolve();
    expect(f.pending).toBe(true); // microtasks run before the check phase
    await nextImmediate();
    expect(f.pending).toBe(false);
  });

  it('is pending again after a send in a later pass', async () => {
    const f = new SendFlush();
    f.noteSend();
    await nextImmediate();
    f.noteSend();
    expect(f.pending).toBe(true);
    await nextImmediate();
    expect(f.pending).toBe(false);
  });
});

describe('PeerTransport and SendFlush', () => {
  it('notes a frame it writes, not one it drops for want of a route', async () => {
    const sendFlush = new SendFlush();
    // Port 1 refuses connections: the frame waits in the link's queue while the dial runs.
    const transport = new PeerTransport({ nodeId: id(1), peers: new Map([[id(2), '127.0.0.1:1']]), sendFlush });
    try {
      transport.send(id(3), heartbeat(1, 3, 0));
      expect(sendFlush.pending).toBe(false);
      expect(transport.stats.dropReasons.noRoute).toBe(1);
      transport.send(id(2), heartbeat(1, 2, 0));
      expect(sendFlush.pending).toBe(true);
      await nextImmediate();
      expect(sendFlush.pending).toBe(false);
    } finally {
      transport.close();
    }
  });

  it('does not note a frame it drops as oversized', () => {
    const sendFlush = new SendFlush();
    const transport = new PeerTransport({ nodeId: id(1), peers: new Map([[id(2), '127.0.0.1:1']]), sendFlush, limits: { frameBytesMax: 8 } });
    try {
      transport.send(id(2), heartbeat(1, 2, 0));
      expect(transport.stats.dropReasons.oversized).toBe(1);
      expect(sendFlush.pending).toBe(false);
    } finally {
      transport.close();
    }
  });
});
