/**
 * Write-ahead log: opaque binary records appended to numbered files, durable before the
 * store acknowledges a batch, replayed on start.
 *
 * On disk, a directory of `wal-00000001.log`, `wal-00000002.log`, ... Each file is
 *
 *   file header   "SWAL" magic (4 bytes) | format version (u32 LE)
 *   record*       payload length (u32 LE) | checksum of length bytes + payload (u32 LE) | payload
 *
 * The checksum is CRC-32 (zlib's native code rather than a JS loop; the whole WAL passes
 * through it at ingest and at replay) in format version 2; version 1 files,
 * written before, used CRC-32C (crc32.ts) and still replay.
 *
 * Every open starts a NEW file, so appends never follow a possibly torn tail left by a
 * crash; a torn or corrupt tail only ever ends a file, and replay skips it with a warning.
 *
 * Assumes a single process owns the directory: nothing here locks it.
 */
import { mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { crc32c } from './crc32.ts';

/**
 * When `append` resolves:
 * - `always`: after an fdatasync covering the record. Concurrent appends that arrive
 *   while an fsync is running are written together and share the next fsync (group commit).
 * - `batch`: after the write reached the OS; an fsync runs at most every `batchIntervalMs`.
 *   A process crash (kill -9) loses nothing, but a machine crash or power loss can lose
 *   records acknowledged within the last `batchIntervalMs`.
 * - `off`: after the write reached the OS; the OS decides when to flush, so a machine
 *   crash can lose any acknowledged record that is not yet on disk.
 */
export type FsyncPolicy = 'always' | 'batch' | 'off';

export interface WalOptions {
  dir: string;
  fsync: FsyncPolicy;
  /** `batch` policy: longest time acknowledged records wait for an fsync. Default 10. */
  batchIntervalMs?: number;
  /** Start a new file once the current one would grow past this. Default 64 MiB. */
  maxFileBytes?: number;
  /** Where warnings go (torn tails, write failures). Default `console.warn`. */
  log?: (msg: string) => void;
}

export interface ReplayStats {
  records: number;
  files: number;
  /** Bytes of WAL files read, including headers and any skipped tail. */
  bytes: number;
  /** Files whose end was torn or corrupt; everything from the bad point on was skipped. */
  corruptTails: number;
}

export interface WalStats {
  /** WAL files on disk, including the one being appended to. */
  files: number;
  bytes: number;
  appendedRecords: number;
  /** fsync/fdatasync calls made, on log files and on the directory. */
  fsyncs: number;
}

/** "SWAL" read as a little-endian u32. */
const MAGIC = 0x4c415753;
const FORMAT_VERSION = 2;
/** The record checksum of each format version: over the length bytes, then the payload. */
const CHECKSUMS: Record<number, (lengthBytes: Uint8Array, payload: Uint8Array) => number> = {
  1: (lengthBytes, payload) => crc32c(payload, crc32c(lengthBytes)),
  2: (lengthBytes, payload) => crc32(payload, crc32(lengthBytes)),
};
const checksum = CHECKSUMS[FORMAT_VERSION]!;
export const FILE_HEADER_BYTES = 8;
export const RECORD_HEADER_BYTES = 8;
const MAX_PAYLOAD_BYTES = 0xffffffff;
const DEFAULT_BATCH_INTERVAL_MS = 10;
const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const WAL_FILE_NAME = /^wal-(\d{8,})\.log$/;

export function walFileName(seq: number): string {
  return `wal-${String(seq).padStart(8, '0')}.log`;
}

interface PendingAppend {
  kind: 'append';
  header: Buffer;
  payload: Uint8Array;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Work that must happen in order with the appends queued before it. */
interface PendingControl {
  kind: 'rotate' | 'sync' | 'close';
  resolve: (closedSeq: number) => void;
  reject: (err: Error) => void;
}

type Pending = PendingAppend | PendingControl;

interface ActiveFile {
  seq: number;
  /** null once closed, or when creating the file failed. */
  handle: FileHandle | null;
  bytes: number;
  unsynced: boolean;
  /** A write or fsync failed: the file's tail is unknown, so no more records go after it. */
  broken: boolean;
}

export class Wal {
  private readonly dir: string;
  private readonly policy: FsyncPolicy;
  private readonly batchIntervalMs: number;
  private readonly maxFileBytes: number;
  private readonly log: (msg: string) => void;
  /** Size of every WAL file on disk, by seq. */
  private readonly fileBytes = new Map<number, number>();
  /** Files that existed before open(): the only ones replay reads. */
  private readonly replayableSeqs: number[];
  private nextSeq: number;
  private active: ActiveFile;
  private readonly queue: Pending[] = [];
  private draining = false;
  private syncTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;
  private appendedRecords = 0;
  private fsyncs = 0;

  private constructor(opts: WalOptions, existing: ExistingFile[]) {
    this.dir = opts.dir;
    this.policy = opts.fsync;
    this.batchIntervalMs = opts.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.log = opts.log ?? ((msg) => console.warn(msg));
    // A skipped name (bytes < 0: not a regular file) is never read or deleted, but its seq is never reused.
    for (const file of existing) if (file.bytes >= 0) this.fileBytes.set(file.seq, file.bytes);
    this.replayableSeqs = existing.filter((file) => file.bytes >= 0).map((file) => file.seq);
    this.nextSeq = (existing.at(-1)?.seq ?? 0) + 1;
    this.active = { seq: 0, handle: null, bytes: 0, unsynced: false, broken: true };
  }

  /** Creates `dir` if needed and starts a new file for appends. */
  static async open(opts: WalOptions): Promise<Wal> {
    validateOptions(opts);
    await mkdir(opts.dir, { recursive: true });
    const wal = new Wal(opts, await listWalFiles(opts.dir, opts.log ?? ((msg) => console.warn(msg))));
    await wal.startNextFile();
    return wal;
  }

  /**
   * Resolves once the record is durable under the fsync policy; rejects if the write or
   * fsync covering it failed. `payload` must not be modified until then (it is written
   * without a copy).
   */
  append(payload: Uint8Array): Promise<void> {
    if (this.closePromise) return Promise.reject(new Error(`WAL ${this.dir} is closed`));
    if (payload.length > MAX_PAYLOAD_BYTES) {
      return Promise.reject(new RangeError(`WAL record of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`));
    }
    const header = encodeRecordHeader(payload);
    return new Promise((resolve, reject) => this.enqueue({ kind: 'append', header, payload, resolve, reject }));
  }

  /**
   * Calls `onRecord` for every record of the files that existed when the WAL was opened,
   * in append order. Payloads are zero-copy views into the file just read (holding one
   * keeps that file's whole buffer alive; copy what you keep). A torn or corrupt stretch
   * ends that file's replay (records before it are kept), is logged, and replay goes on
   * with the next file.
   */
  async replay(onRecord: (payload: Uint8Array, fileSeq: number) => void): Promise<ReplayStats> {
    const stats: ReplayStats = { records: 0, files: 0, bytes: 0, corruptTails: 0 };
    for (const seq of this.replayableSeqs) {
      if (!this.fileBytes.has(seq)) continue; // deleted since open
      let contents: Buffer;
      try {
        contents = await readFile(this.pathOf(seq));
      } catch (err) {
        // Unreadable (permissions, I/O error): skipped like a corrupt file rather than failing the start.
        stats.corruptTails++;
        this.log(`wal: skipping ${this.pathOf(seq)}: ${asError(err).message}`);
        continue;
      }
      const scan = scanRecords(contents, (payload) => onRecord(payload, seq));
      stats.files++;
      stats.bytes += contents.length;
      stats.records += scan.records;
      if (scan.problem !== undefined) {
        stats.corruptTails++;
        this.log(
          `wal: ${this.pathOf(seq)}: ${scan.problem} at byte ${scan.validBytes}; ` +
            `kept ${scan.records} records before it, skipped the last ${contents.length - scan.validBytes} bytes`,
        );
      }
    }
    return stats;
  }

  currentFileSeq(): number {
    return this.active.seq;
  }

  /**
   * Closes the current file and starts the next. Appends called before `rotate` land in
   * files up to the returned seq, appends called after it in later files.
   */
  rotate(): Promise<number> {
    if (this.closePromise) return Promise.reject(new Error(`WAL ${this.dir} is closed`));
    return this.enqueueControl('rotate');
  }

  /** Deletes the files with seq <= `fileSeq`, once their rows are in flushed segments. */
  async deleteUpTo(fileSeq: number): Promise<void> {
    if (fileSeq >= this.active.seq) {
      throw new RangeError(`cannot delete WAL files up to ${fileSeq}: file ${this.active.seq} is still in use`);
    }
    const doomed = [...this.fileBytes.keys()].filter((seq) => seq <= fileSeq);
    for (const seq of doomed) {
      await unlinkIfPresent(this.pathOf(seq));
      this.fileBytes.delete(seq);
    }
    // Without this a crash could bring deleted files back and replay rows twice.
    if (doomed.length > 0 && this.policy !== 'off') await this.syncDirectory();
  }

  stats(): WalStats {
    let bytes = 0;
    for (const size of this.fileBytes.values()) bytes += size;
    return { files: this.fileBytes.size, bytes, appendedRecords: this.appendedRecords, fsyncs: this.fsyncs };
  }

  /** Writes what is queued, fsyncs (under every policy: a clean shutdown is durable), closes. */
  close(): Promise<void> {
    if (!this.closePromise) {
      this.cancelBatchSync();
      this.closePromise = this.enqueueControl('close').then(() => undefined);
    }
    return this.closePromise;
  }

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    if (this.draining) return;
    this.draining = true;
    // Start on a microtask so appends issued in the same tick share the first write.
    queueMicrotask(() => void this.drain());
  }

  private enqueueControl(kind: PendingControl['kind']): Promise<number> {
    return new Promise((resolve, reject) => this.enqueue({ kind, resolve, reject }));
  }

  /**
   * The single writer: takes queued work in order until none is left. Appends that
   * arrive while a write or fsync is in flight wait in the queue and go out together
   * in the next writev, which is what makes group commit.
   */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.queue[0].kind === 'append') await this.writeBatch(this.takeAppendBatch());
        else await this.runControl(this.queue.shift() as PendingControl);
      }
    } finally {
      this.draining = false;
    }
  }

  /** The leading run of queued appends that fits in one file. */
  private takeAppendBatch(): PendingAppend[] {
    const first = this.queue[0] as PendingAppend;
    const room = this.mustStartNewFileFor(recordBytes(first))
      ? this.maxFileBytes - FILE_HEADER_BYTES
      : this.maxFileBytes - this.active.bytes;
    let count = 0;
    let bytes = 0;
    for (; count < this.queue.length; count++) {
      const pending = this.queue[count];
      if (pending.kind !== 'append') break;
      const size = recordBytes(pending);
      if (count > 0 && bytes + size > room) break;
      bytes += size;
    }
    return this.queue.splice(0, count) as PendingAppend[];
  }

  private mustStartNewFileFor(batchBytes: number): boolean {
    const file = this.active;
    if (file.handle === null || file.broken) return true;
    const hasRecords = file.bytes > FILE_HEADER_BYTES;
    return hasRecords && file.bytes + batchBytes > this.maxFileBytes;
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    try {
      const batchBytes = batch.reduce((sum, pending) => sum + recordBytes(pending), 0);
      if (this.mustStartNewFileFor(batchBytes)) await this.rotateNow();
      await this.writeToActive(batch, batchBytes);
      if (this.policy === 'always') await this.syncActive();
    } catch (err) {
      this.active.broken = true;
      const error = asError(err);
      this.log(`wal: append to ${this.dir} failed, rejecting ${batch.length} records: ${error.message}`);
      for (const pending of batch) pending.reject(error);
      return;
    }
    this.appendedRecords += batch.length;
    for (const pending of batch) pending.resolve();
    if (this.policy === 'batch') this.scheduleBatchSync();
  }

  private async writeToActive(batch: PendingAppend[], batchBytes: number): Promise<void> {
    const file = this.active;
    const buffers: Uint8Array[] = new Array(batch.length * 2);
    for (let i = 0; i < batch.length; i++) {
      buffers[2 * i] = batch[i].header;
      buffers[2 * i + 1] = batch[i].payload;
    }
    file.unsynced = true;
    await writeAll(file.handle as FileHandle, buffers, file.bytes);
    file.bytes += batchBytes;
    this.fileBytes.set(file.seq, file.bytes);
  }

  private async runControl(control: PendingControl): Promise<void> {
    try {
      switch (control.kind) {
        case 'rotate':
          control.resolve(await this.rotateNow());
          break;
        case 'sync':
          await this.syncActive();
          control.resolve(this.active.seq);
          break;
        case 'close':
          await this.closeActive(true);
          control.resolve(this.active.seq);
          break;
      }
    } catch (err) {
      control.reject(asError(err));
    }
  }

  /** Returns the seq of the file it closed. */
  private async rotateNow(): Promise<number> {
    const closedSeq = this.active.seq;
    await this.closeActive(this.policy !== 'off');
    await this.startNextFile();
    return closedSeq;
  }

  private async startNextFile(): Promise<void> {
    const seq = this.nextSeq++;
    const handle = await open(this.pathOf(seq), 'wx');
    this.fileBytes.set(seq, 0);
    try {
      await writeAll(handle, [encodeFileHeader()], 0);
      this.fileBytes.set(seq, FILE_HEADER_BYTES);
      // fdatasync on the file does not persist its directory entry; this does.
      if (this.policy !== 'off') await this.syncDirectory();
    } catch (err) {
      await this.closeQuietly(handle, seq);
      throw err;
    }
    this.active = { seq, handle, bytes: FILE_HEADER_BYTES, unsynced: true, broken: false };
  }

  private async closeActive(sync: boolean): Promise<void> {
    const file = this.active;
    const handle = file.handle;
    if (handle === null) return;
    file.handle = null;
    try {
      if (sync && !file.broken) await this.syncActiveHandle(file, handle);
    } finally {
      await this.closeQuietly(handle, file.seq);
    }
  }

  /** A failed close cannot lose acknowledged data (fsync already ran), so it is only logged. */
  private async closeQuietly(handle: FileHandle, seq: number): Promise<void> {
    try {
      await handle.close();
    } catch (err) {
      this.log(`wal: closing ${this.pathOf(seq)} failed: ${asError(err).message}`);
    }
  }

  private async syncActive(): Promise<void> {
    const file = this.active;
    if (file.handle !== null && !file.broken) await this.syncActiveHandle(file, file.handle);
  }

  private async syncActiveHandle(file: ActiveFile, handle: FileHandle): Promise<void> {
    if (!file.unsynced) return;
    try {
      await handle.datasync();
    } catch (err) {
      // After a failed fsync the kernel may have dropped the dirty pages; never trust this file again.
      file.broken = true;
      throw err;
    }
    file.unsynced = false;
    this.fsyncs++;
  }

  private async syncDirectory(): Promise<void> {
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
      this.fsyncs++;
    } finally {
      await handle.close();
    }
  }

  private scheduleBatchSync(): void {
    if (this.syncTimer !== null || this.closePromise) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.enqueueControl('sync').catch((err) => {
        this.log(`wal: periodic fsync of ${this.pathOf(this.active.seq)} failed, acknowledged records may be lost: ${asError(err).message}`);
      });
    }, this.batchIntervalMs);
    // Pending page-cache data survives the process exiting, so the timer need not keep it alive.
    this.syncTimer.unref();
  }

  private cancelBatchSync(): void {
    if (this.syncTimer !== null) clearTimeout(this.syncTimer);
    this.syncTimer = null;
  }

  private pathOf(seq: number): string {
    return path.join(this.dir, walFileName(seq));
  }
}

function validateOptions(opts: WalOptions): void {
  if (!['always', 'batch', 'off'].includes(opts.fsync)) {
    throw new TypeError(`WAL fsync policy must be always, batch or off, got ${String(opts.fsync)}`);
  }
  if (opts.batchIntervalMs !== undefined && !(opts.batchIntervalMs >= 0)) {
    throw new RangeError(`WAL batchIntervalMs must be >= 0, got ${opts.batchIntervalMs}`);
  }
  if (opts.maxFileBytes !== undefined && !(opts.maxFileBytes > FILE_HEADER_BYTES)) {
    throw new RangeError(`WAL maxFileBytes must be > ${FILE_HEADER_BYTES}, got ${opts.maxFileBytes}`);
  }
}

interface ExistingFile {
  seq: number;
  bytes: number;
}

/** WAL files by seq; other names are left alone, and a WAL name that is not a regular file is listed with bytes -1 (skipped). */
async function listWalFiles(dir: string, log: (msg: string) => void): Promise<ExistingFile[]> {
  const files: ExistingFile[] = [];
  for (const name of await readdir(dir)) {
    const match = WAL_FILE_NAME.exec(name);
    if (!match) continue;
    const info = await stat(path.join(dir, name));
    if (!info.isFile()) log(`wal: skipping ${path.join(dir, name)}: not a regular file`);
    files.push({ seq: Number(match[1]), bytes: info.isFile() ? info.size : -1 });
  }
  return files.sort((a, b) => a.seq - b.seq);
}

function encodeFileHeader(): Buffer {
  const header = Buffer.allocUnsafe(FILE_HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(FORMAT_VERSION, 4);
  return header;
}

/** The checksum covers the length too, so a corrupted length cannot pass as a shorter record. */
function encodeRecordHeader(payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(checksum(header.subarray(0, 4), payload), 4);
  return header;
}

function recordBytes(pending: PendingAppend): number {
  return RECORD_HEADER_BYTES + pending.payload.length;
}

interface FileScan {
  records: number;
  /** Offset just past the last good record. */
  validBytes: number;
  /** Why the scan stopped before the end of the file, if it did. */
  problem?: string;
}

function scanRecords(file: Buffer, onPayload: (payload: Uint8Array) => void): FileScan {
  // Crashed between creating the file and writing its header.
  if (file.length === 0) return { records: 0, validBytes: 0 };
  if (file.length < FILE_HEADER_BYTES) return { records: 0, validBytes: 0, problem: 'torn file header' };
  if (file.readUInt32LE(0) !== MAGIC) return { records: 0, validBytes: 0, problem: 'bad magic, not a WAL file header' };
  const version = file.readUInt32LE(4);
  const fileChecksum = CHECKSUMS[version];
  if (fileChecksum === undefined) {
    // Skipping would silently drop a newer strata's data; make the operator decide.
    throw new Error(`WAL file format version ${version} is not supported (expected ${FORMAT_VERSION} or an earlier one)`);
  }
  let offset = FILE_HEADER_BYTES;
  let records = 0;
  while (offset < file.length) {
    const problem = checkRecordAt(file, offset, fileChecksum);
    if (problem !== undefined) return { records, validBytes: offset, problem };
    const payloadStart = offset + RECORD_HEADER_BYTES;
    const payloadEnd = payloadStart + file.readUInt32LE(offset);
    onPayload(file.subarray(payloadStart, payloadEnd));
    records++;
    offset = payloadEnd;
  }
  return { records, validBytes: offset };
}

function checkRecordAt(file: Buffer, offset: number, fileChecksum: (lengthBytes: Uint8Array, payload: Uint8Array) => number): string | undefined {
  if (file.length - offset < RECORD_HEADER_BYTES) return 'torn record header';
  const length = file.readUInt32LE(offset);
  const payloadStart = offset + RECORD_HEADER_BYTES;
  if (length > file.length - payloadStart) return `torn record (${length}-byte payload runs past end of file)`;
  const expected = file.readUInt32LE(offset + 4);
  const actual = fileChecksum(file.subarray(offset, offset + 4), file.subarray(payloadStart, payloadStart + length));
  return actual === expected ? undefined : 'record checksum mismatch';
}

/** writev may write less than asked (disk full, signals); keep going from where it stopped. */
async function writeAll(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let remaining = buffers;
  let at = position;
  while (remaining.length > 0) {
    const { bytesWritten } = await handle.writev(remaining, at);
    const rest = dropWrittenBytes(remaining, bytesWritten);
    if (bytesWritten === 0 && rest.length > 0) throw new Error('writev wrote 0 bytes');
    remaining = rest;
    at += bytesWritten;
  }
}

function dropWrittenBytes(buffers: Uint8Array[], written: number): Uint8Array[] {
  let index = 0;
  let left = written;
  while (index < buffers.length && left >= buffers[index].length) {
    left -= buffers[index].length;
    index++;
  }
  if (index === buffers.length) return [];
  const rest = buffers.slice(index);
  rest[0] = rest[0].subarray(left);
  return rest;
}

async function unlinkIfPresent(filePath: string): Promise<void> {
  try {
    await unlink(filePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
