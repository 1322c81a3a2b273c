import { readFileSync } from 'node:fs';

/** package.json's version, read once: the one place the release number is written. */
export const STRATA_VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;
