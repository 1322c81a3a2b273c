/**
 * The node id in segment file names, which lets several nodes write under one shared
 * segment prefix. Unless configured it is generated once and kept in `<dataDir>/node-id`,
 * so it survives restarts and host renames.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { NODE_ID_PATTERN } from './segment-files.ts';

const NODE_ID_FILE = 'node-id';

export async function resolveNodeId(dataDir: string, configured?: string): Promise<string> {
  if (configured !== undefined) return checkNodeId(configured, 'nodeId option');
  const file = path.join(dataDir, NODE_ID_FILE);
  try {
    return checkNodeId((await readFile(file, 'utf8')).trim(), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const generated = 'n' + randomBytes(6).toString('hex');
  await writeFileAtomic(file, `${file}.tmp`, new TextEncoder().encode(generated + '\n'));
  return generated;
}

function checkNodeId(id: string, source: string): string {
  if (!NODE_ID_PATTERN.test(id)) throw new Error(`${source}: node id must match ${NODE_ID_PATTERN}, got ${JSON.stringify(id)}`);
  return id;
}
