// The pino Logger port: JSON lines with the node id bound, fields merged, levels filtered.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeLogger, prettyStream } from '../../net/logger.ts';
import { nodeId } from '../../raft/types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('node logger', () => {
  it('writes JSON lines with the node id, fields and level to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-log-'));
    dirs.push(dir);
    const file = join(dir, 'logs', 'node-3.log');
    const { logger, flush } = createNodeLogger({ nodeId: nodeId(3), level: 'info', destination: file });
    logger.debug('hidden below info');
    logger.info('elected', { group: 0, term: 7 });
    logger.warn('plain');
    logger.error('disk failed', { code: 'FSYNC_FAILED' });
    await new Promise((r) => setTimeout(r, 50)); // let the file open
    flush();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([[30, 'elected'], [40, 'plain'], [50, 'disk failed']]);
    expect(lines.every((l) => l['node'] === 3 && typeof l['time'] === 'string')).toBe(true);
    expect(lines[0]).toMatchObject({ group: 0, term: 7 });
    expect(lines[2]).toMatchObject({ code: 'FSYNC_FAILED' });
  });

  it('offers a pretty stream for terminals', () => {
    const s = prettyStream();
    expect(typeof s.write).toBe('function');
    s.destroy();
  });
});
