// End-to-end test of the kabard admin web pages, headless Chromium (Debian
// package) driven by playwright-core. See README.md in this directory.
//
// env: KABAR_ADMIN_URL (e.g. http://127.0.0.1:8081), KABAR_ADMIN_USER,
//      KABAR_ADMIN_PASSWORD, KABAR_E2E_OUT (artefact directory),
//      optional KABAR_XSS_KPM_ID, CHROMIUM, KABAR_E2E_TRACE=1.
// Prints `ok - <step>` / `not ok - <step>: <reason>` per step, then
// `N passed, M failed` (`, K skipped` when a step was skipped); exit 1 on failure.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ACTION_TIMEOUT = 15_000;   // per action / navigation
const RUN_LIMIT = 50_000;        // whole run; with clean-up stays under 60 s
const POLL_MS = 3_000;           // how long to wait for server-rendered elements
const NOTE = 'checked by e2e';
const XSS_NAME = '<script>alert(1)</script>';

const t0 = Date.now();
const env = process.env;
const base = (env.KABAR_ADMIN_URL || '').replace(/\/+$/, '');
const user = env.KABAR_ADMIN_USER;
const password = env.KABAR_ADMIN_PASSWORD;
const out = env.KABAR_E2E_OUT;
const xssId = env.KABAR_XSS_KPM_ID;

let passed = 0, failed = 0, skipped = 0;
let aborting = false;          // set by the watchdog: later results are dropped
function ok(name) { if (aborting) return; passed++; console.log(`ok - ${name}`); }
function notOk(name, why) {
  if (aborting) return;
  failed++;
  console.log(`not ok - ${name}: ${String(why).replace(/\s+/g, ' ').trim()}`);
}
function finish() {
  console.log(`# finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
}

{
  const missing = ['KABAR_ADMIN_URL', 'KABAR_ADMIN_USER', 'KABAR_ADMIN_PASSWORD', 'KABAR_E2E_OUT']
    .filter((k) => !env[k]);
  if (missing.length) {
    notOk('config', `missing env ${missing.join(', ')}`);
    finish();
    process.exit(1);
  }
  mkdirSync(out, { recursive: true });
}

// ---------------------------------------------------------------- browser
let browser, context, page;
const dialogs = [];
let lastDoc = null;            // last main-frame document response
let current = null;            // step being run
const STEPS = ['login', 'dashboard', 'session cookie', 'queue filter', 'review',
  'export csv', ...(xssId ? ['xss', 'graduation'] : []), 'training', 'logout'];
const done = new Set();

// Watchdog: whatever hangs, the run ends well inside 60 s.
const watchdog = setTimeout(async () => {
  console.log(`# run limit of ${RUN_LIMIT / 1000} s reached`);
  for (const s of STEPS) {
    if (done.has(s)) continue;
    notOk(s, s === current ? `aborted: run limit ${RUN_LIMIT / 1000} s reached` : 'not run: run limit reached');
  }
  aborting = true;
  if (page && current && !done.has(current)) await Promise.race([artefacts(current), sleep(2_000)]);
  finish();
  process.exit(1);        // playwright kills the browser on exit
}, RUN_LIMIT);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const slug = (s) => s.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
const path = () => { try { const u = new URL(page.url()); return u.pathname + u.search; } catch { return page.url(); } };

// Screenshot + HTML of the page a failed step left; bounded, as the page may
// be stuck loading.
async function artefacts(name) {
  const f = join(out, `fail-${slug(name)}`);
  const save = async () => {
    try { await page.screenshot({ path: `${f}.png`, fullPage: true, timeout: 3_000 }); } catch { /* ignore */ }
    try { writeFileSync(`${f}.html`, await page.content()); } catch { /* ignore */ }
  };
  await Promise.race([save(), sleep(4_000)]);
}

// Click something that loads a new document (link, form submit, POST +
// redirect) and wait until the new document has loaded.
async function clickNav(locator) {
  const nav = page.waitForEvent('framenavigated', {
    predicate: (f) => f === page.mainFrame(), timeout: ACTION_TIMEOUT });
  await Promise.all([nav, locator.click()]);
  await page.waitForLoadState('load');
}

async function gotoPath(p) {
  const resp = await page.goto(base + p);
  await page.waitForLoadState('load');
  return resp;
}

// Pages are server-rendered: poll briefly rather than burn the 15 s timeout.
async function need(selector, { min = 1, root = page, what } = {}) {
  const loc = root.locator(selector);
  const until = Date.now() + POLL_MS;
  let n = 0;
  for (;;) {
    n = await loc.count();
    if (n >= min || Date.now() > until) break;
    await sleep(100);
  }
  if (n < min) {
    throw new Error(`${what || selector}: found ${n}, want >= ${min} on ${path()}`);
  }
  return loc;
}

function pathIs(p) {
  const u = new URL(page.url());
  return u.pathname === p;
}

const state = { loggedIn: false };
async function step(name, needs, fn) {
  if (aborting) return;
  const miss = needs.filter((n) => !state[n]);
  if (miss.length) { done.add(name); notOk(name, `not run: ${miss.map((m) => (m === 'loggedIn' ? 'not logged in' : m)).join(', ')}`); return; }
  current = name;
  try {
    await fn();
    ok(name);
    done.add(name);
  } catch (e) {
    let why = (e && e.message ? e.message : String(e)).split('\n')[0];
    if (lastDoc && lastDoc.status >= 400) why += ` (last page ${lastDoc.url} -> HTTP ${lastDoc.status})`;
    notOk(name, why);
    done.add(name);
    if (page && !aborting) await artefacts(name);
  }
  current = null;
}

// ---------------------------------------------------------------- run
let exitCode = 1;
try {
  browser = await chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: ACTION_TIMEOUT,
  });
  console.log(`# chromium ${browser.version()}, ${base}`);
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
  if (env.KABAR_E2E_TRACE) await context.tracing.start({ screenshots: true, snapshots: true });
  page = await context.newPage();
  page.on('dialog', (d) => {
    dialogs.push({ step: current, type: d.type(), message: d.message() });
    console.log(`# dialog (${d.type()}) during ${current}: ${JSON.stringify(d.message())}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => console.log(`# page error on ${path()}: ${e.message.split('\n')[0]}`));
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
      lastDoc = { url: new URL(r.url()).pathname, status: r.status() };
    }
  });

  // a. log in, land on the dashboard
  await step('login', [], async () => {
    await gotoPath('/login');
    const form = (await need('form#login')).first();
    await (await need('input[name=username]', { root: form })).first().fill(user);
    await (await need('input[name=password]', { root: form })).first().fill(password);
    await clickNav(form.locator('button[type=submit]').first());
    if (!pathIs('/')) {
      const c = (await context.cookies(base)).find((x) => x.name === 'kabar_session');
      throw new Error(`after login landed on ${path()}, want /` + (c ? '' : '; no kabar_session cookie stored (Secure flag over plain http?)'));
    }
    state.loggedIn = true;
  });

  await step('dashboard', ['loggedIn'], async () => {
    await need('main#dashboard');
    await need('svg.chart', { min: 3 }).catch(() => {});   // let charts appear
    const f = join(out, 'dashboard.png');
    await page.screenshot({ path: f, fullPage: true });
    await need('svg.chart', { min: 3 });
    const size = statSync(f).size;
    if (size <= 10_000) throw new Error(`${f} is ${size} bytes, want > 10 kB`);
  });

  // b. session cookie flags
  await step('session cookie', ['loggedIn'], async () => {
    const cookies = await context.cookies(base);
    const c = cookies.find((x) => x.name === 'kabar_session');
    if (!c) throw new Error(`no kabar_session cookie (have: ${cookies.map((x) => x.name).join(', ') || 'none'})`);
    const bad = [];
    if (c.httpOnly !== true) bad.push('not HttpOnly');
    if (c.sameSite !== 'Strict') bad.push(`SameSite=${c.sameSite}, want Strict`);
    if (bad.length) throw new Error(`kabar_session ${bad.join(', ')}`);
  });

  // c. review queue, filter by type (POSTed, no personal data in the URL)
  await step('queue filter', ['loggedIn'], async () => {
    await clickNav((await need('a#nav-queue')).first());
    await need('table#queue');
    const form = (await need('form#filter')).first();
    await (await need('select[name=type]', { root: form })).first().selectOption('business');
    await clickNav((await need('button#apply', { root: form })).first());
    const rows = await need('table#queue tbody tr.report', { what: 'queue rows after filter' });
    const attrs = await rows.evaluateAll((trs) => trs.map((tr) => [tr.dataset.type, tr.dataset.id]));
    const notBiz = attrs.filter(([t]) => t !== 'business');
    if (notBiz.length) throw new Error(`${notBiz.length}/${attrs.length} rows not business: ${notBiz.slice(0, 3).map(([t, id]) => `${id}=${t}`).join(', ')}`);
    const noId = attrs.filter(([, id]) => !id);
    if (noId.length) throw new Error(`${noId.length} rows without data-id`);
    const u = new URL(page.url());
    if (u.pathname !== '/queue' || !(u.search === '' || /^\?page=\d+$/.test(u.search))) {
      throw new Error(`URL after filter is ${u.pathname}${u.search}, want /queue or /queue?page=N`);
    }
  });

  // d. open a KPM from the queue, mark one unreviewed report as reviewed
  await step('review', ['loggedIn'], async () => {
    if (!pathIs('/queue')) await clickNav((await need('a#nav-queue')).first());
    const links = await need('table#queue tbody tr.report a.kpm', { what: 'a.kpm links in queue' });
    const hrefs = [...new Set(await links.evaluateAll((as) => as.map((a) => a.href)))].slice(0, 5);
    await clickNav(links.first());
    let art = null;
    for (let i = 0; ; i++) {
      const name = ((await (await need('h1#kpm-name')).first().textContent()) || '').trim();
      if (!name) throw new Error(`h1#kpm-name is empty on ${path()}`);
      await need('section#reports article.report', { what: 'article.report in section#reports' });
      const cand = page.locator('section#reports article.report[data-review="none"]');
      if (await cand.count()) { art = cand.first(); break; }
      // Everything on this KPM was reviewed already (re-run on the same
      // data): try the next KPM in the queue.
      if (i + 1 >= hrefs.length) throw new Error(`no article.report with data-review=none on the first ${hrefs.length} KPM page(s) of the queue`);
      console.log(`# ${path()}: no unreviewed report, trying next KPM`);
      await page.goto(hrefs[i + 1]);
    }
    const id = await art.getAttribute('id');
    if (!id) throw new Error('article.report[data-review=none] has no id');
    const kpmUrl = path();
    await (await need('textarea[name=note]', { root: art })).first().fill(NOTE);
    await clickNav((await need('button[name=status][value=reviewed]', { root: art })).first());
    const again = page.locator(`article.report[id="${id.replace(/["\\]/g, '\\$&')}"]`);
    if (await again.count() !== 1) throw new Error(`after review, article #${id} not found on ${path()} (was ${kpmUrl})`);
    const review = await again.getAttribute('data-review');
    if (review !== 'reviewed') throw new Error(`article #${id} data-review=${review}, want reviewed`);
    const reviews = page.locator(`article.report[id="${id.replace(/["\\]/g, '\\$&')}"] ul.reviews`);
    if (!(await reviews.count())) throw new Error(`article #${id} has no ul.reviews`);
    const txt = (await reviews.first().textContent()) || '';
    if (!txt.includes(NOTE)) throw new Error(`article #${id} ul.reviews lacks ${JSON.stringify(NOTE)}: ${JSON.stringify(txt.trim().slice(0, 120))}`);
    console.log(`# reviewed ${id} on ${path()}`);
  });

  // e. CSV export: UTF-8 BOM, header with report_id, >= 2 lines
  await step('export csv', ['loggedIn'], async () => {
    await clickNav((await need('a#nav-queue')).first());
    const link = (await need('a#export-reports')).first();
    const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const f = join(out, 'reports.csv');
    await dl.saveAs(f);
    const err = await dl.failure();
    if (err) throw new Error(`download failed: ${err}`);
    const buf = readFileSync(f);
    if (!(buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)) {
      throw new Error(`reports.csv does not start with the UTF-8 BOM (starts ${buf.subarray(0, 3).toString('hex') || 'empty'})`);
    }
    const lines = buf.subarray(3).toString('utf8').split(/\r?\n/).filter((l) => l !== '');
    if (!lines.length || !lines[0].includes('report_id')) throw new Error(`CSV header lacks report_id: ${JSON.stringify((lines[0] || '').slice(0, 120))}`);
    if (lines.length < 2) throw new Error(`CSV has ${lines.length} line(s), want >= 2`);
    console.log(`# ${dl.suggestedFilename()}: ${lines.length} lines, ${buf.length} bytes`);
  });

  // g. stored XSS in the KPM name is shown as text (before logout)
  if (xssId) {
    await step('xss', ['loggedIn'], async () => {
      const before = dialogs.length;
      await gotoPath(`/kpm?id=${encodeURIComponent(xssId)}`);
      const h1 = (await need('h1#kpm-name')).first();
      await sleep(500);   // give any injected script a chance to run
      const text = await h1.textContent();
      const bad = [];
      if ((text || '').trim() !== XSS_NAME) bad.push(`h1#kpm-name text is ${JSON.stringify(text)}, want ${JSON.stringify(XSS_NAME)}`);
      if (await h1.locator('script').count()) bad.push('h1#kpm-name contains a <script> element');
      if (dialogs.length > before) bad.push(`a ${dialogs[before].type} dialog fired: ${JSON.stringify(dialogs[before].message)}`);
      if (bad.length) throw new Error(bad.join('; '));
    });

    // h. record a graduation on the KPM page, then revoke it: the page shows both
    await step('graduation', ['loggedIn'], async () => {
      await gotoPath(`/kpm?id=${encodeURIComponent(xssId)}`);
      const form = (await need('form#graduation-form')).first();
      await form.locator('select[name=track]').selectOption('welfare');
      await form.locator('select[name=reason]').selectOption('business_sustains');
      await form.locator('input[name=effective_date]').fill('2025-06-01');
      await form.locator('textarea[name=note]').fill(NOTE);
      await clickNav(form.locator('button#graduation-record'));
      const bad = [];
      if (!pathIs('/kpm')) bad.push(`after recording, on ${path()}, want /kpm`);
      const track = await (await need('#graduation-track')).first().getAttribute('data-track');
      if (track !== 'welfare') bad.push(`#graduation-track data-track=${track}, want welfare`);
      const since = ((await page.locator('#graduated-on').textContent()) || '').trim();
      if (since !== '2025-06-01') bad.push(`#graduated-on is ${JSON.stringify(since)}, want 2025-06-01`);
      const rows = await need('table#graduations tr.graduation[data-revoked="0"]', { what: 'a standing graduation' });
      const row = rows.first();
      if (!((await row.textContent()) || '').includes(NOTE)) bad.push('the graduation row lacks its note');
      if (bad.length) throw new Error(bad.join('; '));
      const gid = await row.getAttribute('data-id');
      const why = `e2e revoke ${Date.now()}`;
      await row.locator('form.revoke input[name=reason]').fill(why);
      await clickNav(row.locator('form.revoke button'));
      const again = page.locator(`table#graduations tr.graduation[data-id="${gid}"]`);
      if (await again.count() !== 1) throw new Error(`after revoking, graduation ${gid} not shown on ${path()}`);
      if (await again.getAttribute('data-revoked') !== '1') bad.push(`graduation ${gid} data-revoked=${await again.getAttribute('data-revoked')}, want 1`);
      if (!((await again.locator('td.revocation').textContent()) || '').includes(why)) bad.push('the revocation cell lacks the reason');
      const after = await page.locator('#graduation-track').getAttribute('data-track');
      if (after !== 'none') bad.push(`after revoking, #graduation-track data-track=${after}, want none`);
      if (bad.length) throw new Error(bad.join('; '));
      console.log(`# graduation ${gid} recorded and revoked on ${path()}`);
    });
  } else {
    skipped += 2;
    console.log('# skip - xss, graduation: KABAR_XSS_KPM_ID not set');
  }

  // i. create a TOT from the trainings page, enrol the assistants of a desa: its page shows
  // its code, a 6-digit attendance code and the roster
  await step('training', ['loggedIn'], async () => {
    await clickNav((await need('a#nav-trainings')).first());
    await need('table#trainings');
    await clickNav((await need('a#training-new')).first());
    const code = `E2E-${Date.now() % 100_000_000}`;
    const wib = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
    const form = (await need('form#training-form')).first();
    await form.locator('input[name=code]').fill(code);
    await form.locator('input[name=title]').fill(`TOT ${NOTE}`);
    await form.locator('input[name=place]').fill('Aula');
    await form.locator('input[name=region]').fill('3204132005');
    await form.locator('input[name=start_date]').fill(wib);
    await form.locator('input[name=end_date]').fill(wib);
    await form.locator('select[name=audience]').selectOption('assistant');
    await form.locator('select[name=kind]').selectOption('tot');
    await clickNav(form.locator('button#training-save'));
    const bad = [];
    if (!pathIs('/training')) throw new Error(`after saving, on ${path()}, want /training`);
    const shown = ((await (await need('#training-code')).first().textContent()) || '').trim();
    if (shown !== code) bad.push(`#training-code is ${JSON.stringify(shown)}, want ${code}`);
    const ac = ((await page.locator('#attendance-code').textContent()) || '').trim();
    if (!/^\d{6}\b/.test(ac)) bad.push(`#attendance-code is ${JSON.stringify(ac)}, want 6 digits`);
    const enrol = (await need('form#enrol-form')).first();
    await enrol.locator('select[name=by]').selectOption('region');
    await enrol.locator('input[name=value]').fill('3204132005');
    await clickNav(enrol.locator('button#enrol-submit'));
    await need('table#roster-table tr.participant[data-type="assistant"]', { min: 2, what: 'enrolled assistants' });
    if (bad.length) throw new Error(bad.join('; '));
    console.log(`# training ${code} created and enrolled on ${path()}`);
  });

  // f. log out; / then redirects to /login
  await step('logout', ['loggedIn'], async () => {
    if (!(await page.locator('form#logout button').count())) await gotoPath('/');
    await clickNav((await need('form#logout button')).first());
    await gotoPath('/');
    if (!pathIs('/login')) throw new Error(`after logout, / ended on ${path()}, want /login`);
    state.loggedIn = false;
  });
  exitCode = failed ? 1 : 0;
} catch (e) {
  // Browser launch or setup failed: every step not yet reported fails.
  const why = (e && e.message ? e.message : String(e)).split('\n')[0];
  if (current) { done.add(current); notOk(current, why); }
  for (const s of STEPS) if (!done.has(s)) notOk(s, `not run: ${why}`);
  exitCode = 1;
} finally {
  if (context && env.KABAR_E2E_TRACE) {
    await context.tracing.stop({ path: join(out, 'trace.zip') }).catch(() => {});
  }
  if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5_000)]);
  clearTimeout(watchdog);
}
finish();
process.exit(exitCode);
