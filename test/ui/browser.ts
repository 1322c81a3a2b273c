/**
 * Debian's chromium driven by playwright-core, for the UI tests. When /usr/bin/chromium is
 * absent the browser suites are skipped, with the reason in their name, unless
 * STRATA_REQUIRE_EXTERNAL=1 (as .ci/run sets), where they fail saying chromium is missing.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
export const requireExternal = process.env.STRATA_REQUIRE_EXTERNAL === '1';
export const MISSING_REASON = `${CHROMIUM} not found (apt-get install chromium)`;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'ui');
const DOCS_SCREENSHOTS = join(ROOT, 'docs', 'screenshots');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'strata-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    deviceScaleFactor: 1,
    timezoneId: 'UTC',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The PromQL feature probe may 404 while the Prometheus API is not there: expected.
    if (message.type() === 'error' && !/status of 404/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return {
    context, page, errors,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Saves a screenshot under test-artifacts/ui/; with STRATA_UPDATE_SCREENSHOTS=1 also into
 * docs/screenshots/ (the README's images).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.STRATA_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
    copyFileSync(file, join(DOCS_SCREENSHOTS, `${name}.png`));
  }
  return file;
}
