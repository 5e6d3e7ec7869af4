import { existsSync } from 'node:fs';

import { type BrowserContext, chromium } from 'playwright-core';

/** Where a Chromium is usually installed (Debian's `chromium` package first). */
const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
];

/**
 * The browser the web end-to-end tests drive: CHROMIUM_PATH, or the usual install paths. Browsers
 * cannot be downloaded by Playwright here, so none found is a failure that says how to get one.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CHROMIUM_PATH;
  if (configured !== undefined && configured !== '') {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return configured;
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      'No Chromium found for the web end-to-end tests: install one with `apt-get install -y chromium` ' +
        `(Debian/Ubuntu) or set CHROMIUM_PATH to a Chrome/Chromium executable (looked in ${CANDIDATES.join(', ')})`,
    );
  }
  return found;
}

export interface TestBrowser {
  /** A fresh, isolated browser context (cookies, localStorage): one per simulated user. */
  newContext(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Headless Chromium with nothing that calls home. Playwright starts it on a fresh temporary
 * user-data dir of its own (and removes it on close).
 */
export async function launchChromium(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    newContext: (viewport = { width: 1280, height: 900 }) => browser.newContext({ viewport }),
    close: () => browser.close(),
  };
}
