// lab-page.mjs — the /lab/ page in Debian's Chromium (headless, driven by
// puppeteer-core): it loads with no script error, its gauge shows load
// that a terminal's send_many puts on the mux, a short run started from
// the form completes and each timeline ends with its N bars, having shown
// fewer while the run went on; the report appears; a screenshot is kept.
//
//   node lab-page.mjs BASE-URL SCREENSHOT.png N
//
// Prints one JSON line of what it saw; exits 1 when a check failed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const [base, shot, nArg] = process.argv.slice(2);
const n = Number(nArg || 8);
const profile = mkdtempSync(join(tmpdir(), "fcgilab-chromium-"));
const errors = [];
const seen = {};
let failed = null;
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    `--user-data-dir=${profile}`],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${base}/lab/`, { waitUntil: "load" });
  seen.title = await page.title();

  // the gauge: the load a terminal puts on the mux (the test sends it)
  await page.waitForFunction(() => {
    const b = document.querySelector('.gbar[data-backend="this stack: mux"]');
    return b && Number(b.dataset.active) > 0;
  }, { timeout: 15000 });
  seen.gauge_mux_in_flight = await page.$eval('.gbar[data-backend="this stack: mux"]',
    (b) => Number(b.dataset.active));

  // a short run: a pool of 2 and the mux, n fixed waits
  await page.select("#scenario", "wait");
  for (const [id, v] of [["#pools", "2"], ["#n", String(n)], ["#secs", "1"],
    ["#seed", "1"], ["#timeout", "30"]]) {
    await page.$eval(id, (e) => { e.value = ""; });
    await page.type(id, v);
  }
  await page.click("#run");
  // record the bars while the run goes on
  const history = [];
  const t0 = Date.now();
  for (;;) {
    // bars and status in one look: the page may redraw between two
    const { counts, status } = await page.evaluate(() => ({
      counts: [...document.querySelectorAll("svg[data-run]")].map((s) =>
        [s.dataset.run, s.querySelectorAll("[data-request]").length]),
      status: document.getElementById("status").textContent,
    }));
    history.push({ t: Date.now() - t0, counts, status });
    if (/^(Done|Failed|Refused)/.test(status)) break;
    if (Date.now() - t0 > 90000) throw new Error(`no end in 90 s: ${status}`);
    await new Promise((r) => setTimeout(r, 150));
  }
  const last = history[history.length - 1];
  seen.status = last.status;
  seen.bars = Object.fromEntries(last.counts);
  seen.partial_pool = history.some((h) => h.counts.some(([name, c]) => name === "pool-2" && c > 0 && c < n));
  seen.explanation = await page.$$eval("#explanation li", (l) => l.length);
  seen.results_shown = await page.$eval("#results", (e) => !e.hidden);
  seen.marks = await page.$$eval('svg[data-run] line.mark', (l) => l.length);
  await page.screenshot({ path: shot, fullPage: true });

  if (!/^Done/.test(seen.status)) failed = `the run did not complete: ${seen.status}`;
  else if (seen.bars["pool-2"] !== n || seen.bars.mux !== n) failed = `bars: ${JSON.stringify(seen.bars)}`;
  else if (!seen.partial_pool) failed = "the pool's timeline never showed a run in progress";
  else if (!(seen.explanation > 0 && seen.results_shown)) failed = "no report shown";
} catch (e) {
  failed = String(e.message || e);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
if (errors.length && !failed) failed = "errors in the page";
console.log(JSON.stringify({ ok: !failed, failed, errors, seen }));
process.exit(failed ? 1 : 0);
