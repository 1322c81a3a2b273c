/**
 * CRC-32C (Castagnoli): the record checksum of WAL format version 1, kept so those files
 * still replay (wal.ts). Version 2 uses zlib's native CRC-32: same 32-bit strength against
 * torn writes and bit rot, and vectorised C instead of a JS loop.
 *
 * Slicing-by-8: eight 256-entry tables let the loop fold eight input bytes per step
 * instead of one, which is what lets a pure-JS checksum keep up with disk bandwidth
 * (see bench/wal.bench.ts).
 */

/** The reflected Castagnoli polynomial. */
const POLYNOMIAL = 0x82f63b78;

const TABLES = buildSlicingTables();
// Separate module-level constants so V8 sees eight fixed typed arrays in the hot loop.
const T0 = TABLES.subarray(0, 256);
const T1 = TABLES.subarray(256, 512);
const T2 = TABLES.subarray(512, 768);
const T3 = TABLES.subarray(768, 1024);
const T4 = TABLES.subarray(1024, 1280);
const T5 = TABLES.subarray(1280, 1536);
const T6 = TABLES.subarray(1536, 1792);
const T7 = TABLES.subarray(1792, 2048);

/** Table k (at offset k * 256) holds the CRC of a byte followed by k zero bytes. */
function buildSlicingTables(): Int32Array {
  const tables = new Int32Array(8 * 256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    tables[byte] = crc;
  }
  for (let byte = 0; byte < 256; byte++) {
    let crc = tables[byte];
    for (let k = 1; k < 8; k++) {
      crc = tables[crc & 0xff] ^ (crc >>> 8);
      tables[k * 256 + byte] = crc;
    }
  }
  return tables;
}

/**
 * CRC-32C of `data[start, end)`. Pass the result of a previous call as `previous` to
 * checksum several pieces as if they were one contiguous buffer.
 */
export function crc32c(data: Uint8Array, previous = 0, start = 0, end = data.length): number {
  let crc = ~previous;
  let i = start;
  const lastFullStep = end - 8;
  for (; i <= lastFullStep; i += 8) {
    const low = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc =
      T7[low & 0xff] ^
      T6[(low >>> 8) & 0xff] ^
      T5[(low >>> 16) & 0xff] ^
      T4[low >>> 24] ^
      T3[data[i + 4]] ^
      T2[data[i + 5]] ^
      T1[data[i + 6]] ^
      T0[data[i + 7]];
  }
  for (; i < end; i++) crc = T0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
