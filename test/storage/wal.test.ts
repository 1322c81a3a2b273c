import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { crc32c } from '../../src/storage/crc32.ts';
import {
  FILE_HEADER_BYTES,
  RECORD_HEADER_BYTES,
  Wal,
  walFileName,
  type FsyncPolicy,
  type WalOptions,
} from '../../src/storage/wal.ts';

const tempDirs: string[] = [];

function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-wal-'));
  tempDirs.push(dir);
  return dir;
}

afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Deterministic, distinguishable bytes: record `id` of `size` bytes. */
function payloadOf(id: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (id * 31 + i * 7) & 0xff;
  return bytes;
}

interface Replayed {
  /** Hex strings: vitest compares strings far faster than large byte arrays. */
  payloads: string[];
  seqs: number[];
}

async function replayAll(wal: Wal): Promise<Replayed & { stats: Awaited<ReturnType<Wal['replay']>> }> {
  const payloads: string[] = [];
  const seqs: number[] = [];
  const stats = await wal.replay((payload, seq) => {
    payloads.push(hex(payload));
    seqs.push(seq);
  });
  return { payloads, seqs, stats };
}

/** Opens the WAL in `dir` again and returns everything it replays, with the warnings logged. */
async function reopenAndReplay(dir: string, opts: Partial<WalOptions> = {}) {
  const warnings: string[] = [];
  const wal = await Wal.open({ dir, fsync: 'off', log: (msg) => warnings.push(msg), ...opts });
  const replayed = await replayAll(wal);
  await wal.close();
  return { ...replayed, warnings };
}

function walFilesIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.startsWith('wal-')).sort();
}

async function writeRecords(dir: string, payloads: Uint8Array[], opts: Partial<WalOptions> = {}): Promise<Wal> {
  const wal = await Wal.open({ dir, fsync: 'off', ...opts });
  for (const payload of payloads) await wal.append(payload);
  return wal;
}

/** File offset where record `index` starts, for files holding records of known sizes. */
function recordOffset(sizes: number[], index: number): number {
  let offset = FILE_HEADER_BYTES;
  for (let i = 0; i < index; i++) offset += RECORD_HEADER_BYTES + sizes[i];
  return offset;
}

/** Spying on the prototype reaches the WAL's own handles without a test hook in the source. */
async function fileHandlePrototype(dir: string): Promise<FileHandle> {
  const handle = await fsp.open(path.join(dir, 'probe'), 'w');
  await handle.close();
  return Object.getPrototypeOf(handle) as FileHandle;
}

function hex(payload: Uint8Array): string {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('hex');
}

function hexes(payloads: Uint8Array[]): string[] {
  return payloads.map(hex);
}

describe('crc32c', () => {
  it('matches the standard CRC-32C check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });

  it('chains pieces as if they were one buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (bytes, cut) => {
        const at = bytes.length === 0 ? 0 : cut % bytes.length;
        const chained = crc32c(bytes, crc32c(bytes, 0, 0, at), at, bytes.length);
        expect(chained).toBe(crc32c(bytes));
        expect(crc32c(bytes.subarray(at))).toBe(crc32c(bytes, 0, at));
      }),
    );
  });
});

describe('Wal', () => {
  it('round-trips many records of varied sizes across rotations, in order', async () => {
    const dir = makeTempDir();
    const sizes = Array.from({ length: 300 }, (_, i) => (i === 7 ? 9000 : (i * 613) % 2500));
    const payloads = sizes.map((size, i) => payloadOf(i, size));
    const wal = await writeRecords(dir, payloads, { maxFileBytes: 8192 });
    expect(wal.stats().appendedRecords).toBe(300);
    await wal.close();

    const { payloads: replayed, seqs, stats, warnings } = await reopenAndReplay(dir);
    expect(replayed).toEqual(hexes(payloads));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(stats.records).toBe(300);
    expect(stats.files).toBeGreaterThan(10);
    expect(stats.corruptTails).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('keeps every file within maxFileBytes unless one record alone is larger', async () => {
    const dir = makeTempDir();
    const sizes = [100, 3000, 20000, 10, 4000, 4000, 0, 4000];
    const wal = await writeRecords(dir, sizes.map((size, i) => payloadOf(i, size)), { maxFileBytes: 8192 });
    await wal.close();
    for (const name of walFilesIn(dir)) {
      const size = fs.statSync(path.join(dir, name)).size;
      const singleHugeRecord = size === FILE_HEADER_BYTES + RECORD_HEADER_BYTES + 20000;
      expect(size <= 8192 || singleHugeRecord).toBe(true);
    }
  });

  it('replays concurrent appends in the order append was called', async () => {
    const dir = makeTempDir();
    const wal = await Wal.open({ dir, fsync: 'always', maxFileBytes: 4096 });
    const payloads = Array.from({ length: 200 }, (_, i) => payloadOf(i, 1 + (i % 97)));
    await Promise.all(payloads.map((payload) => wal.append(payload)));
    await wal.close();
    expect((await reopenAndReplay(dir)).payloads).toEqual(hexes(payloads));
  });

  it('group-commits concurrent appends under always: fewer fsyncs, each ack after an fsync', async () => {
    const dir = makeTempDir();
    const wal = await Wal.open({ dir, fsync: 'always' });
    const fsyncsAtOpen = wal.stats().fsyncs;
    const writers = 16;
    const perWriter = 25;
    const appendAfterFsync = async (payload: Uint8Array) => {
      const fsyncsBefore = wal.stats().fsyncs;
      await wal.append(payload);
      expect(wal.stats().fsyncs).toBeGreaterThan(fsyncsBefore);
    };
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let i = 0; i < perWriter; i++) await appendAfterFsync(payloadOf(writer * 1000 + i, 64));
      }),
    );
    const appends = writers * perWriter;
    expect(wal.stats().appendedRecords).toBe(appends);
    expect(wal.stats().fsyncs - fsyncsAtOpen).toBeLessThan(appends);
    await wal.close();

    const expected = Array.from({ length: writers }, (_, writer) =>
      Array.from({ length: perWriter }, (_, i) => payloadOf(writer * 1000 + i, 64)),
    ).flat();
    const { payloads } = await reopenAndReplay(dir);
    expect([...payloads].sort()).toEqual(hexes(expected).sort());
  });

  it.each<FsyncPolicy>(['always', 'batch', 'off'])('round-trips under the %s policy', async (fsync) => {
    const dir = makeTempDir();
    const payloads = Array.from({ length: 50 }, (_, i) => payloadOf(i, 10 * i));
    const wal = await Wal.open({ dir, fsync, batchIntervalMs: 1 });
    await Promise.all(payloads.map((payload) => wal.append(payload)));
    await wal.close();
    expect(wal.stats().fsyncs).toBeGreaterThan(0);
    expect((await reopenAndReplay(dir)).payloads).toEqual(hexes(payloads));
  });

  it('never fsyncs on the append path under off', async () => {
    const dir = makeTempDir();
    const wal = await writeRecords(dir, [payloadOf(1, 10), payloadOf(2, 10)], { fsync: 'off' });
    await wal.rotate();
    expect(wal.stats().fsyncs).toBe(0);
    await wal.close();
  });

  it('rotate() splits appends called before it from appends called after it', async () => {
    const dir = makeTempDir();
    const wal = await Wal.open({ dir, fsync: 'batch' });
    const firstSeq = wal.currentFileSeq();
    const before = [wal.append(payloadOf(1, 5)), wal.append(payloadOf(2, 5))];
    const rotated = wal.rotate();
    const after = [wal.append(payloadOf(3, 5))];
    await Promise.all([...before, ...after]);
    expect(await rotated).toBe(firstSeq);
    expect(wal.currentFileSeq()).toBe(firstSeq + 1);
    await wal.close();

    const { seqs } = await reopenAndReplay(dir);
    expect(seqs).toEqual([firstSeq, firstSeq, firstSeq + 1]);
  });

  it('skips a tail truncated mid-record, keeps the records before it, and warns', async () => {
    const dir = makeTempDir();
    const sizes = [10, 200, 3000, 40, 500];
    const payloads = sizes.map((size, i) => payloadOf(i, size));
    await (await writeRecords(dir, payloads)).close();
    const [file] = walFilesIn(dir);
    fs.truncateSync(path.join(dir, file), recordOffset(sizes, 4) + RECORD_HEADER_BYTES + 100);

    const { payloads: replayed, stats, warnings } = await reopenAndReplay(dir);
    expect(replayed).toEqual(hexes(payloads.slice(0, 4)));
    expect(stats.corruptTails).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/torn record/);
    expect(warnings[0]).toContain(file);
  });

  it('skips a tail truncated inside a record header', async () => {
    const dir = makeTempDir();
    const sizes = [10, 20, 30];
    await (await writeRecords(dir, sizes.map((size, i) => payloadOf(i, size)))).close();
    const [file] = walFilesIn(dir);
    fs.truncateSync(path.join(dir, file), recordOffset(sizes, 2) + 3);

    const { payloads, stats, warnings } = await reopenAndReplay(dir);
    expect(payloads).toHaveLength(2);
    expect(stats.corruptTails).toBe(1);
    expect(warnings[0]).toMatch(/torn record header/);
  });

  it('skips a last record whose payload has a flipped byte', async () => {
    const dir = makeTempDir();
    const sizes = [10, 200, 3000];
    const payloads = sizes.map((size, i) => payloadOf(i, size));
    await (await writeRecords(dir, payloads)).close();
    const [file] = walFilesIn(dir);
    flipByte(path.join(dir, file), recordOffset(sizes, 2) + RECORD_HEADER_BYTES + 1234);

    const { payloads: replayed, stats, warnings } = await reopenAndReplay(dir);
    expect(replayed).toEqual(hexes(payloads.slice(0, 2)));
    expect(stats.corruptTails).toBe(1);
    expect(warnings[0]).toMatch(/checksum mismatch/);
  });

  it('detects a corrupted length field through the checksum', async () => {
    const dir = makeTempDir();
    const sizes = [10, 200, 300];
    await (await writeRecords(dir, sizes.map((size, i) => payloadOf(i, size)))).close();
    const [file] = walFilesIn(dir);
    flipByte(path.join(dir, file), recordOffset(sizes, 1)); // 200 becomes a shorter length

    const { payloads, stats } = await reopenAndReplay(dir);
    expect(payloads).toHaveLength(1);
    expect(stats.corruptTails).toBe(1);
  });

  it('stops at corruption mid-file but goes on with the next file', async () => {
    const dir = makeTempDir();
    const sizes = [50, 60, 70, 80, 90];
    const firstFile = sizes.map((size, i) => payloadOf(i, size));
    const secondFile = sizes.map((size, i) => payloadOf(100 + i, size));
    const wal = await writeRecords(dir, firstFile);
    await wal.rotate();
    for (const payload of secondFile) await wal.append(payload);
    await wal.close();
    const [first] = walFilesIn(dir);
    flipByte(path.join(dir, first), recordOffset(sizes, 2) + RECORD_HEADER_BYTES + 5);

    const { payloads, stats, warnings } = await reopenAndReplay(dir);
    expect(payloads).toEqual(hexes([...firstFile.slice(0, 2), ...secondFile]));
    expect(stats).toMatchObject({ records: 7, files: 2, corruptTails: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(first);
  });

  it('treats an empty file as a crash before its header, and a short one as a torn header', async () => {
    const dir = makeTempDir();
    await (await writeRecords(dir, [payloadOf(1, 10)])).close();
    fs.writeFileSync(path.join(dir, walFileName(50)), '');
    fs.writeFileSync(path.join(dir, walFileName(51)), 'SWA');

    const { payloads, stats, warnings } = await reopenAndReplay(dir);
    expect(payloads).toHaveLength(1);
    expect(stats.corruptTails).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/torn file header/);
  });

  it('refuses to replay a file written in an unknown format version', async () => {
    const dir = makeTempDir();
    await (await writeRecords(dir, [payloadOf(1, 10)])).close();
    const [file] = walFilesIn(dir);
    const contents = fs.readFileSync(path.join(dir, file));
    contents.writeUInt32LE(99, 4);
    fs.writeFileSync(path.join(dir, file), contents);

    const wal = await Wal.open({ dir, fsync: 'off' });
    await expect(wal.replay(() => {})).rejects.toThrow(/version 99/);
    await wal.close();
  });

  it('replays files of format version 1 (CRC-32C records) and still finds their corrupt records', async () => {
    // A version-1 file as the previous strata wrote it, by hand: magic, version, then
    // length | CRC-32C(length bytes, payload) | payload.
    const records = [payloadOf(1, 40), payloadOf(2, 3), payloadOf(3, 1000)];
    const parts: Uint8Array[] = [Uint8Array.of(0x53, 0x57, 0x41, 0x4c, 1, 0, 0, 0)];
    for (const payload of records) {
      const header = Buffer.alloc(RECORD_HEADER_BYTES);
      header.writeUInt32LE(payload.length, 0);
      header.writeUInt32LE(crc32c(payload, crc32c(header, 0, 0, 4)), 4);
      parts.push(header, payload);
    }
    const dir = makeTempDir();
    const file = path.join(dir, walFileName(1));
    fs.writeFileSync(file, Buffer.concat(parts));
    const intact = await reopenAndReplay(dir);
    expect(intact.payloads).toEqual(records.map(hex));
    expect(intact.warnings).toEqual([]);

    // The second record's last payload byte flipped: the replay stops before it.
    const dir2 = makeTempDir();
    const bytes = Buffer.concat(parts);
    bytes[FILE_HEADER_BYTES + RECORD_HEADER_BYTES * 2 + 40 + 2] ^= 0xff;
    fs.writeFileSync(path.join(dir2, walFileName(1)), bytes);
    const corrupt = await reopenAndReplay(dir2);
    expect(corrupt.payloads).toEqual([hex(records[0])]);
    expect(corrupt.warnings.join('\n')).toMatch(/checksum mismatch/);
  });

  it('writes format version 2, whose record checksum is zlib CRC-32 of the length bytes and payload', async () => {
    const dir = makeTempDir();
    const payload = payloadOf(7, 300);
    await (await writeRecords(dir, [payload])).close();
    const contents = fs.readFileSync(path.join(dir, walFilesIn(dir)[0]));
    expect(contents.readUInt32LE(4)).toBe(2);
    const stored = contents.readUInt32LE(FILE_HEADER_BYTES + 4);
    expect(stored).toBe(zlib.crc32(payload, zlib.crc32(contents.subarray(FILE_HEADER_BYTES, FILE_HEADER_BYTES + 4))));
    expect(stored).not.toBe(crc32c(payload, crc32c(contents, 0, FILE_HEADER_BYTES, FILE_HEADER_BYTES + 4)));
  });

  it('replays only the files that existed before open', async () => {
    const dir = makeTempDir();
    await (await writeRecords(dir, [payloadOf(1, 10)])).close();
    const wal = await Wal.open({ dir, fsync: 'off' });
    await wal.append(payloadOf(2, 10));
    const { payloads } = await replayAll(wal);
    expect(payloads).toEqual(hexes([payloadOf(1, 10)]));
    await wal.close();
  });

  it('reopen after close appends to a new file and replay sees every session', async () => {
    const dir = makeTempDir();
    const sessions = [0, 1, 2].map((s) => Array.from({ length: 5 }, (_, i) => payloadOf(s * 10 + i, 33 + i)));
    const seqs: number[] = [];
    for (const session of sessions) {
      const wal = await writeRecords(dir, session);
      seqs.push(wal.currentFileSeq());
      await wal.close();
    }
    expect(seqs).toEqual([1, 2, 3]);
    expect(walFilesIn(dir)).toEqual([walFileName(1), walFileName(2), walFileName(3)]);
    expect((await reopenAndReplay(dir)).payloads).toEqual(hexes(sessions.flat()));
  });

  it('deleteUpTo removes closed files and refuses to delete the one in use', async () => {
    const dir = makeTempDir();
    const wal = await writeRecords(dir, [payloadOf(1, 10)], { fsync: 'always' });
    const first = await wal.rotate();
    await wal.append(payloadOf(2, 10));
    const second = await wal.rotate();
    await wal.append(payloadOf(3, 10));
    expect(wal.stats().files).toBe(3);

    await wal.deleteUpTo(second);
    expect(walFilesIn(dir)).toEqual([walFileName(wal.currentFileSeq())]);
    expect(wal.stats().files).toBe(1);
    expect(wal.stats().bytes).toBe(FILE_HEADER_BYTES + RECORD_HEADER_BYTES + 10);
    expect(first).toBeLessThan(second);
    await expect(wal.deleteUpTo(wal.currentFileSeq())).rejects.toThrow(RangeError);
    await wal.close();

    expect((await reopenAndReplay(dir)).payloads).toEqual(hexes([payloadOf(3, 10)]));
  });

  it('replay skips files deleted after open', async () => {
    const dir = makeTempDir();
    const old = await writeRecords(dir, [payloadOf(1, 10)]);
    await old.rotate();
    await old.append(payloadOf(2, 10));
    await old.close();

    const wal = await Wal.open({ dir, fsync: 'off' });
    await wal.deleteUpTo(1);
    const { payloads, stats } = await replayAll(wal);
    expect(payloads).toEqual(hexes([payloadOf(2, 10)]));
    expect(stats.files).toBe(1);
    await wal.close();
  });

  it('rejects the appends of a failed write and puts later appends in a fresh file', async () => {
    const dir = makeTempDir();
    const warnings: string[] = [];
    const wal = await writeRecords(dir, [payloadOf(1, 10)], { fsync: 'always', log: (m) => warnings.push(m) });
    const failedSeq = wal.currentFileSeq();
    vi.spyOn(await fileHandlePrototype(dir), 'writev').mockRejectedValueOnce(new Error('EIO: simulated'));

    const results = await Promise.allSettled([wal.append(payloadOf(2, 10)), wal.append(payloadOf(3, 10))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(warnings.join('\n')).toMatch(/EIO: simulated/);

    await wal.append(payloadOf(4, 10));
    expect(wal.currentFileSeq()).toBeGreaterThan(failedSeq);
    expect(wal.stats().appendedRecords).toBe(2);
    await wal.close();
    expect((await reopenAndReplay(dir)).payloads).toEqual(hexes([payloadOf(1, 10), payloadOf(4, 10)]));
  });

  it('rejects appends whose fsync failed and never appends to that file again', async () => {
    const dir = makeTempDir();
    const wal = await Wal.open({ dir, fsync: 'always', log: () => {} });
    const failedSeq = wal.currentFileSeq();
    vi.spyOn(await fileHandlePrototype(dir), 'datasync').mockRejectedValueOnce(new Error('EIO: fsync'));

    await expect(wal.append(payloadOf(1, 10))).rejects.toThrow(/EIO: fsync/);
    await wal.append(payloadOf(2, 10));
    expect(wal.currentFileSeq()).toBeGreaterThan(failedSeq);
    await wal.close();
    // A rejected record may still reach the disk (as with any log); the later one must.
    expect((await reopenAndReplay(dir)).payloads).toContain(hex(payloadOf(2, 10)));
  });

  it('rejects appends when the next file cannot be created, and recovers once it can', async () => {
    const dir = makeTempDir();
    const recordSize = RECORD_HEADER_BYTES + 10;
    const wal = await Wal.open({ dir, fsync: 'batch', maxFileBytes: FILE_HEADER_BYTES + recordSize, log: () => {} });
    await wal.append(payloadOf(1, 10));
    fs.rmSync(dir, { recursive: true });

    await expect(wal.append(payloadOf(2, 10))).rejects.toThrow(/ENOENT/);
    fs.mkdirSync(dir);
    await wal.append(payloadOf(3, 10));
    await wal.close();
    expect((await reopenAndReplay(dir)).payloads).toEqual(hexes([payloadOf(3, 10)]));
  });

  it('rejects appends and rotations after close', async () => {
    const dir = makeTempDir();
    const wal = await Wal.open({ dir, fsync: 'off' });
    const pending = wal.append(payloadOf(1, 10));
    await wal.close();
    await pending;
    await expect(wal.append(payloadOf(2, 10))).rejects.toThrow(/closed/);
    await expect(wal.rotate()).rejects.toThrow(/closed/);
  });

  it('rejects invalid options', async () => {
    const dir = makeTempDir();
    await expect(Wal.open({ dir, fsync: 'sometimes' as FsyncPolicy })).rejects.toThrow(TypeError);
    await expect(Wal.open({ dir, fsync: 'off', maxFileBytes: 4 })).rejects.toThrow(RangeError);
    await expect(Wal.open({ dir, fsync: 'off', batchIntervalMs: -1 })).rejects.toThrow(RangeError);
  });

  it('replays exactly what was appended, for any payloads and file size limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 60 }),
        fc.integer({ min: 32, max: 4096 }),
        fc.constantFrom<FsyncPolicy>('always', 'batch', 'off'),
        fc.boolean(),
        async (payloads, maxFileBytes, fsync, concurrent) => {
          const dir = makeTempDir();
          const wal = await Wal.open({ dir, fsync, maxFileBytes, batchIntervalMs: 1 });
          if (concurrent) await Promise.all(payloads.map((payload) => wal.append(payload)));
          else for (const payload of payloads) await wal.append(payload);
          await wal.close();
          const { payloads: replayed, stats } = await reopenAndReplay(dir);
          expect(replayed).toEqual(hexes(payloads));
          expect(stats.corruptTails).toBe(0);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: 40 },
    );
  });
});

function flipByte(filePath: string, offset: number): void {
  const contents = fs.readFileSync(filePath);
  contents[offset] ^= 0xff;
  fs.writeFileSync(filePath, contents);
}
