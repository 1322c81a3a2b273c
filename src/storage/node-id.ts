/**
 * The node id in segment file names, which lets several nodes write under one shared
 * segment prefix. Unless configured it is generated once and kept in `<dataDir>/node-id`,
 * so it survives restarts and host renames.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { NODE_ID_PATTERN, parseSegmentFileName, SEGMENTS_DIR } from './segment-files.ts';

const NODE_ID_FILE = 'node-id';

/**
 * A `node-id` file that is unreadable or holds garbage is not fatal: the id is recovered from
 * the segment file names when they carry exactly one, else a new one is generated (segment
 * files of other ids are then left alone, as other nodes' files are), with a warning.
 */
export async function resolveNodeId(dataDir: string, configured?: string, log: (msg: string) => void = (m) => console.warn(m)): Promise<string> {
  if (configured !== undefined) return checkNodeId(configured, 'nodeId option');
  const file = path.join(dataDir, NODE_ID_FILE);
  let problem: string;
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (NODE_ID_PATTERN.test(text)) return text;
    problem = `holds ${JSON.stringify(text.slice(0, 80))}, not a node id`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return writeNodeId(file, 'n' + randomBytes(6).toString('hex'));
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new Error(`${file} is a directory: move it away so strata can keep its node id there`);
    problem = (err as Error).message;
  }
  const found = await nodeIdsInSegments(dataDir);
  const id = found.length === 1 ? found[0]! : 'n' + randomBytes(6).toString('hex');
  log(found.length === 1
    ? `node-id: ${file} ${problem}; recovered ${id} from the segment file names and rewrote it`
    : `node-id: ${file} ${problem}; generated ${id}` + (found.length > 1 ? ` (segment files carry ${found.length} ids: ${found.join(', ')}; set the node id to load another's)` : ''));
  return writeNodeId(file, id);
}

async function writeNodeId(file: string, id: string): Promise<string> {
  await writeFileAtomic(file, `${file}.tmp`, new TextEncoder().encode(id + '\n'));
  return id;
}

/** The node ids in segment file names (`segments/<table>/<date>/<name>.parquet`). */
async function nodeIdsInSegments(dataDir: string): Promise<string[]> {
  const ids = new Set<string>();
  const list = async (dir: string) => readdir(dir).catch(() => [] as string[]);
  const root = path.join(dataDir, SEGMENTS_DIR);
  for (const table of await list(root)) {
    for (const day of await list(path.join(root, table))) {
      for (const name of await list(path.join(root, table, day))) {
        const parsed = parseSegmentFileName(name);
        if (parsed) ids.add(parsed.nodeId);
      }
    }
  }
  return [...ids].sort();
}

function checkNodeId(id: string, source: string): string {
  if (!NODE_ID_PATTERN.test(id)) throw new Error(`${source}: node id must match ${NODE_ID_PATTERN}, got ${JSON.stringify(id)}`);
  return id;
}
