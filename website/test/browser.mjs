#!/usr/bin/env node
// npm run site:test: the built site (npm run site:build) in a real browser. Serves website/build
// on localhost and drives Debian's Chromium (playwright-core, no browser download) through what a
// reader does: the home page, a spec rule reached by its requirement ID, the tests and code that
// cite it, an API page, the benchmarks, a search. Each page must show its content with no console
// error, no failed request and no serious accessibility violation (axe); screenshots at desktop
// and phone widths go to reports/site/.
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import { load, walk } from '../../scripts/spec/files.mjs';
import { parseSpec } from '../../scripts/spec/spec-ids.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const site = join(root, 'website/build');
const shots = join(root, 'reports/site');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(join(site, 'index.html'))) fail('website/build is missing: run npm run site:build first');
if (!existsSync(browserPath)) fail(`no Chromium at ${browserPath}: apt-get install chromium (or set CHROMIUM)`);
mkdirSync(shots, { recursive: true });
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

// Every requirement ID of the spec is an address on the site: an element with that id in the
// built page of its section.
{
  const { requirements } = parseSpec(load(walk('spec', (p) => p.endsWith('.md'))));
  const built = readdirSync(join(site, 'spec'))
    .filter((f) => f.endsWith('.html'))
    .map((f) => readFileSync(join(site, 'spec', f), 'utf8'))
    .join('\n');
  const missing = requirements.filter((r) => !built.includes(`id="${r.id}"`)).map((r) => r.id);
  check(
    missing.length === 0,
    `every one of the spec's ${requirements.length} requirement IDs is an anchor${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
  );
}

const types = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.xml': 'application/xml',
  '.txt': 'text/plain',
};

/** The build as a static server would serve it: `/spec/leases` is spec/leases.html. */
function fileFor(pathname) {
  const clean = normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, '');
  for (const candidate of [clean, `${clean}.html`, join(clean, 'index.html')]) {
    const path = join(site, candidate);
    if (path.startsWith(site) && existsSync(path) && statSync(path).isFile()) return path;
  }
  return undefined;
}

const server = http.createServer((req, res) => {
  const file = fileFor(new URL(req.url, 'http://localhost').pathname);
  if (file === undefined) {
    res.writeHead(404, { 'content-type': 'text/html' });
    createReadStream(join(site, '404.html')).pipe(res);
    return;
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });

/** Opens a page at a width, watching its console and requests; runs `body`, then axe and a screenshot. */
async function visit(name, path, viewport, body) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  await page.goto(`${base}${path}`, { waitUntil: 'networkidle' });
  await body(page);
  const axe = await new AxeBuilder({ page }).analyze();
  const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(
    serious.length === 0,
    `${name}: no serious accessibility violation${serious.map((v) => `\n       ${v.id}: ${v.help} (${v.nodes.length}×, ${v.nodes[0]?.target})`).join('')}`,
  );
  check(
    problems.length === 0,
    `${name}: no console error or failed request${problems.map((p) => `\n       ${p}`).join('')}`,
  );
  await page.screenshot({ path: join(shots, `${name}-${viewport.width}.png`), fullPage: false });
  await context.close();
}

const inView = (page, selector) =>
  page.$eval(selector, (el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.top < window.innerHeight;
  });

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  const at = `at ${viewport.width}px`;
  await visit('home', '/', viewport, async (page) => {
    check(await page.locator('h1', { hasText: 'iolease' }).isVisible(), `home ${at}: the title is shown`);
    const figures = await page.locator('.hero-figures strong').allTextContents();
    check(
      figures.length === 4 && figures.every((f) => /^\d[\d.]*×$/.test(f)),
      `home ${at}: the headline ratios are shown (${figures.join(', ')})`,
    );
    check(
      await page.locator('pre', { hasText: 'openEventLoop' }).first().isVisible(),
      `home ${at}: the echo server is shown`,
    );
  });

  await visit('spec-rule', '/docs/concepts', viewport, async (page) => {
    const diagrams = page.locator('article img[alt^="The life of a"]');
    for (const diagram of await diagrams.all()) await diagram.scrollIntoViewIfNeeded();
    const drawn = await diagrams.evaluateAll((imgs) => imgs.map((i) => (i.complete ? i.naturalWidth : 0)));
    check(
      drawn.length === 2 && drawn.every((w) => w > 0),
      `concepts ${at}: the lease and write diagrams are drawn (${drawn.length})`,
    );
    await diagrams.first().screenshot({ path: join(shots, `diagram-lease-${viewport.width}.png`) });
    await page.evaluate(() => window.scrollTo(0, 0));
    // Reach a rule the way a reader does: its requirement ID, linked from another page.
    await page.locator('a[href="/spec/leases#LEASE-2"]').first().click();
    await page.waitForURL(/\/spec\/leases#LEASE-2$/);
    await page.waitForTimeout(300);
    check(await inView(page, 'li#LEASE-2'), `spec ${at}: the LEASE-2 link lands on the rule, scrolled into view`);
    check(
      (await page.locator('li#LEASE-2').textContent()).includes('held lease'),
      `spec ${at}: the rule's text is there`,
    );
    const evidence = page.locator('li#LEASE-2 > details.requirement-evidence');
    await evidence.locator('summary').click();
    const links = await evidence.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    const tests = links.filter((h) => /\/blob\/main\/[^#]+\.(test\.ts|ts)#L\d+$/.test(h));
    check(tests.length >= 2, `spec ${at}: the rule's tests and code are linked to their lines (${tests.length} links)`);
    // Docusaurus unfolds a <details> with a height animation: wait for it rather than look once.
    const unfolded = await evidence
      .locator('li', { hasText: 'test:' })
      .first()
      .waitFor({ state: 'visible', timeout: 5000 })
      .then(
        () => true,
        () => false,
      );
    check(unfolded, `spec ${at}: the citing tests unfold`);
  });

  await visit('api', '/docs/api/@iolease/interfaces/classes/AdaptiveRecvByteBufferSizer', viewport, async (page) => {
    check(
      await page.locator('h1', { hasText: 'AdaptiveRecvByteBufferSizer' }).isVisible(),
      `api ${at}: the class page has its title`,
    );
    check(await page.locator('text=nextReadSize').first().isVisible(), `api ${at}: its members are listed`);
  });

  await visit('benchmarks', '/docs/benchmarks', viewport, async (page) => {
    // Small SVGs are inlined as data: URLs by the build, larger ones served from /charts/.
    const charts = page.locator('article img[src^="data:image/svg"], article img[src*="/charts/"]');
    for (const chart of await charts.all()) await chart.scrollIntoViewIfNeeded();
    const sizes = await charts.evaluateAll((imgs) => imgs.map((i) => (i.complete ? i.naturalWidth : 0)));
    check(sizes.length >= 6 && sizes.every((w) => w > 0), `benchmarks ${at}: ${sizes.length} charts drawn`);
    const alts = await charts.evaluateAll((imgs) => imgs.map((i) => i.alt));
    check(
      alts.every((a) => /\d/.test(a)),
      `benchmarks ${at}: each chart's text alternative carries its figures`,
    );
    check(
      await page.locator('td', { hasText: 'iolease uring' }).first().isVisible(),
      `benchmarks ${at}: the figures are tabled`,
    );
    check(
      await page.locator('code', { hasText: 'node bench/echo/run.mjs' }).first().isVisible(),
      `benchmarks ${at}: the command to reproduce is shown`,
    );
  });

  await visit('search', '/search?q=LEASE-2', viewport, async (page) => {
    const hit = page.locator('a[href*="/spec/leases"]').first();
    await hit.waitFor({ timeout: 10_000 }).catch(() => {});
    check(await hit.isVisible(), `search ${at}: "LEASE-2" finds the leases section of the spec`);
    await page.goto(`${base}/search?q=AdaptiveRecvByteBufferSizer`, { waitUntil: 'networkidle' });
    const api = page.locator('a[href*="AdaptiveRecvByteBufferSizer"]').first();
    await api.waitFor({ timeout: 10_000 }).catch(() => {});
    check(await api.isVisible(), `search ${at}: "AdaptiveRecvByteBufferSizer" finds its API page`);
  });
}

await browser.close();
server.close();
if (failures.length > 0) fail(`${failures.length} site checks failed`);
console.log(`site: every check passed; screenshots in reports/site/`);

function fail(message) {
  console.error(message);
  process.exit(1);
}
