import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listSegmentFiles, parseSegmentFileName, segmentFilePath, tempPathFor, utcDate } from '../../src/storage/segment-files.ts';
import { resolveNodeId } from '../../src/storage/node-id.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

describe('segment file layout', () => {
  it('names files by time range, node and segment id under table= and date= directories', () => {
    const ts = Date.UTC(2026, 10, 21, 23, 59, 59, 999) * 1000 + 999;
    const p = segmentFilePath('/data', 'span_events', { minTs: ts, maxTs: ts + 5, nodeId: 'a_1', segmentId: 12 });
    expect(p).toBe(`/data/segments/table=span_events/date=2026-11-21/${ts}-${ts + 5}-a_1-12.parquet`);
    expect(parseSegmentFileName(path.basename(p))).toEqual({ minTs: ts, maxTs: ts + 5, nodeId: 'a_1', segmentId: 12 });
    expect(parseSegmentFileName('-5-10-n-1.parquet')).toEqual({ minTs: -5, maxTs: 10, nodeId: 'n', segmentId: 1 });
    expect(parseSegmentFileName('part-0.parquet')).toBeNull();
    expect(path.basename(tempPathFor(p))).toBe(`.${path.basename(p)}.tmp`);
    expect(utcDate(0)).toBe('1970-01-01');
  });

  it('lists only this node’s segment and temp files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-layout-'));
    dirs.push(dir);
    const mine = segmentFilePath(dir, 'metrics', { minTs: 1, maxTs: 2, nodeId: 'me', segmentId: 1 });
    const theirs = segmentFilePath(dir, 'metrics', { minTs: 1, maxTs: 2, nodeId: 'you', segmentId: 1 });
    fs.mkdirSync(path.dirname(mine), { recursive: true });
    for (const f of [mine, theirs, tempPathFor(mine), tempPathFor(theirs), path.join(path.dirname(mine), 'notes.txt')]) fs.writeFileSync(f, '');
    const listing = await listSegmentFiles(dir, 'me');
    expect(listing.segments.map((s) => [s.table, s.path])).toEqual([['metrics', mine]]);
    expect(listing.temps).toEqual([tempPathFor(mine)]);
    expect(await listSegmentFiles(path.join(dir, 'absent'), 'me')).toEqual({ segments: [], temps: [] });
  });

  it('keeps a generated node id across opens and checks configured ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-node-'));
    dirs.push(dir);
    const id = await resolveNodeId(dir);
    expect(id).toMatch(/^n[0-9a-f]{12}$/);
    expect(await resolveNodeId(dir)).toBe(id);
    expect(await resolveNodeId(dir, 'edge_7')).toBe('edge_7');
    await expect(resolveNodeId(dir, 'has-dash')).rejects.toThrow(/node id/);
  });
});
