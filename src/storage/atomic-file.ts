/**
 * Crash-safe file creation: write a temp file, fsync it, rename it over the final name,
 * fsync the directory. A crash at any point leaves either no file under the final name
 * or the whole file, never a prefix; at worst a temp file remains, which the loader deletes.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomic(finalPath: string, tempPath: string, bytes: Uint8Array): Promise<void> {
  await ensureDirectory(path.dirname(finalPath));
  const handle = await open(tempPath, 'w');
  try {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, written);
      written += bytesWritten;
    }
    await handle.datasync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tempPath, finalPath);
  await syncDirectory(path.dirname(finalPath));
}

/** Deletes a file and makes the deletion durable; a file already gone is fine. */
export async function deleteFileDurably(filePath: string): Promise<void> {
  try {
    await unlink(filePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return;
  }
  await syncDirectory(path.dirname(filePath));
}

/** mkdir -p, fsyncing the parent of every directory it creates so the new entries survive a crash. */
async function ensureDirectory(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let created = dir; ; created = path.dirname(created)) {
    await syncDirectory(path.dirname(created));
    if (created === first || created === path.dirname(created)) break;
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
