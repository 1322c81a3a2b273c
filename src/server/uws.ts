import uWS from 'uWebSockets.js';
import { log } from '../log.ts';

export { uWS };

/**
 * The uWS package silently swaps in a slow pure-JS server when its native binary does not load
 * (wrong Node ABI, glibc, platform). That fallback exports only `App` and a few helpers, so a
 * native-only export tells the two apart.
 */
export function usingNativeUws(): boolean {
  return typeof (uWS as { getParts?: unknown }).getParts === 'function';
}

let warned = false;

export function warnIfUwsFallback(): void {
  if (warned || usingNativeUws()) return;
  warned = true;
  log.warn('uWebSockets.js native binary not loaded: its pure-JS fallback is slow and incomplete (requests may fail with 500); run on a Node version it ships a binary for (16, 18 or 20)', {
    node: process.version,
    abi: process.versions.modules,
    platform: `${process.platform}-${process.arch}`,
  });
}
