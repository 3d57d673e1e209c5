// Smoke check: headless Chromium (Debian package) driven by playwright-core
// renders a data: URL and takes a screenshot. No kabard needed.
// Usage: node smoke.mjs   (env: CHROMIUM, KABAR_E2E_OUT)
import { chromium } from 'playwright-core';
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = process.env.KABAR_E2E_OUT || join(tmpdir(), 'kabar-e2e');
mkdirSync(out, { recursive: true });

const t0 = Date.now();
let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: 30_000,
  });
  const launchMs = Date.now() - t0;
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  page.setDefaultTimeout(15_000);
  const html = '<!doctype html><meta charset="utf-8"><title>smoke</title>'
    + '<h1 id="t">Kabar smoke &lt;ok&gt;</h1>'
    + '<svg class="chart" width="300" height="100"><rect width="200" height="60" fill="teal"/></svg>';
  await page.goto('data:text/html;charset=utf-8,' + encodeURIComponent(html));
  const text = await page.textContent('h1#t');
  if (text !== 'Kabar smoke <ok>') throw new Error(`unexpected h1 text: ${JSON.stringify(text)}`);
  const shot = join(out, 'smoke.png');
  await page.screenshot({ path: shot, fullPage: true });
  const size = statSync(shot).size;
  if (size < 1000) throw new Error(`screenshot too small: ${size} bytes`);
  console.log(`ok - smoke: ${browser.version()} launched in ${launchMs} ms, screenshot ${shot} (${size} bytes)`);
  await browser.close();
  console.log('1 passed, 0 failed');
} catch (e) {
  console.log(`not ok - smoke: ${String(e && e.message || e).split('\n')[0]}`);
  if (browser) await browser.close().catch(() => {});
  console.log('0 passed, 1 failed');
  process.exit(1);
}
