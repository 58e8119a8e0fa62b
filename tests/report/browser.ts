/**
 * Opens report pages in Debian's headless Chromium (driven by playwright-core, no browser download)
 * with the network cut off: every request that is not the page's own file is recorded and aborted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM } from '../helpers/system.js';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // One process for the browser, its renderers and its compositor: the default's dozen processes
  // cost about 40% more CPU (9 against 5 CPU-seconds to open three reports), on two cores.
  '--single-process',
  '--no-zygote',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'funsearch-report-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1200, height: 900 },
      offline: true,
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface OpenedPage {
  page: Page;
  /** Console messages of type error, and uncaught exceptions. */
  errors: string[];
  /** Requests other than the page's own file (all aborted). */
  blocked: string[];
}

export async function openReport(browser: Browser, file: string): Promise<OpenedPage> {
  const url = pathToFileURL(file).href;
  const page = await browser.context.newPage();
  const errors: string[] = [];
  const blocked: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    if (request.url() !== url) blocked.push(request.url());
  });
  await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('html[data-charts]', { timeout: 20_000 });
  return { page, errors, blocked };
}

/** Pixels of each chart's canvas that are (nearly) `rgb` and opaque: the series itself, not the grid or text. */
export async function seriesPixels(
  page: Page,
  chartId: string,
  rgb: [number, number, number],
): Promise<number> {
  // A string, not a function: the project compiles without the DOM library.
  return page.evaluate(`(() => {
    const rgb = ${JSON.stringify(rgb)};
    const canvas = document.querySelector('#${chartId} canvas');
    if (!canvas || canvas.width === 0 || canvas.height === 0) return -1;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) <= 16 && Math.abs(data[i + 1] - rgb[1]) <= 16 &&
          Math.abs(data[i + 2] - rgb[2]) <= 16) count++;
    }
    return count;
  })()`);
}
