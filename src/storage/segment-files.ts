/**
 * Where segment files live: a hive-style layout other engines read with one glob,
 *
 *   <dataDir>/segments/table=<metrics|span_events|logs>/date=YYYY-MM-DD/<minTs>-<maxTs>-<nodeId>-<segmentId>.parquet
 *
 * `date` is the UTC day of the segment's first timestamp; times in names are µs since
 * the epoch. Several nodes may share the directory: each only loads, and only deletes,
 * files carrying its own node id.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { SegmentTable } from './segment-snapshot.ts';

export const SEGMENTS_DIR = 'segments';
export const SEGMENT_TABLES: readonly SegmentTable[] = ['metrics', 'span_events', 'logs'];
export const NODE_ID_PATTERN = /^[A-Za-z0-9_]{1,64}$/;

const FILE_NAME = /^(-?\d+)-(-?\d+)-([A-Za-z0-9_]{1,64})-(\d+)\.parquet$/;
/** In-progress writes: hidden (Spark and Trino skip dot files) and not matching `*.parquet`. */
const TEMP_NAME = /^\.(.+\.parquet)\.tmp$/;

export interface SegmentName {
  minTs: number;
  maxTs: number;
  nodeId: string;
  segmentId: number;
}

export interface ListedSegmentFile extends SegmentName {
  table: SegmentTable;
  path: string;
}

export interface SegmentDirListing {
  segments: ListedSegmentFile[];
  /** Leftovers of writes a crash interrupted. */
  temps: string[];
}

export function segmentFilePath(dataDir: string, table: SegmentTable, name: SegmentName): string {
  const file = `${name.minTs}-${name.maxTs}-${name.nodeId}-${name.segmentId}.parquet`;
  return path.join(dataDir, SEGMENTS_DIR, `table=${table}`, `date=${utcDate(name.minTs)}`, file);
}

export function tempPathFor(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.tmp`);
}

export function parseSegmentFileName(name: string): SegmentName | null {
  const m = FILE_NAME.exec(name);
  return m ? { minTs: Number(m[1]), maxTs: Number(m[2]), nodeId: m[3], segmentId: Number(m[4]) } : null;
}

/** YYYY-MM-DD (UTC) of a time in µs. */
export function utcDate(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toISOString().slice(0, 10);
}

/** This node's segment files and leftover temp files; other names are left alone. */
export async function listSegmentFiles(dataDir: string, nodeId: string): Promise<SegmentDirListing> {
  const listing: SegmentDirListing = { segments: [], temps: [] };
  for (const table of SEGMENT_TABLES) {
    const tableDir = path.join(dataDir, SEGMENTS_DIR, `table=${table}`);
    for (const dateDir of await subdirectories(tableDir)) {
      if (!dateDir.startsWith('date=')) continue;
      const dir = path.join(tableDir, dateDir);
      for (const file of await readdir(dir)) {
        const temp = TEMP_NAME.exec(file);
        const name = parseSegmentFileName(temp ? temp[1] : file);
        if (!name || name.nodeId !== nodeId) continue;
        if (temp) listing.temps.push(path.join(dir, file));
        else listing.segments.push({ ...name, table, path: path.join(dir, file) });
      }
    }
  }
  return listing;
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
