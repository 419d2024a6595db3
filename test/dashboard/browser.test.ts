import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { DirStore } from '../../plumbing/store/dirStore';
import { workflowIds } from '../../domain/ids';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import { freshDatabase, testDir, type TestDatabase } from '../harness/services';
import { EVIL_SUBJECT, PANIC_LINE, SHA_B, populate, type Populated } from './fixtures';

const TEMPORAL_UI = 'http://127.0.0.1:8233';
const RED = 'rgb(207, 34, 46)';

/** A computed style, read in the page (the test's own TypeScript has no DOM types). */
function css(locator: Locator, prop: string): Promise<string> {
  return locator.evaluate(
    (el, p) =>
      (globalThis as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(el)[p],
    prop,
  );
}

describe('the dashboard in a real headless Chromium, as a maintainer sees it (no JavaScript)', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  let fx: Populated;
  let browser: Browser;
  let page: Page;
  let shots: string;

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = await mkdtemp(join(testDir(), 'dashboard-browser-'));
    // Screenshots stay in the run's directory, or where BF_SCREENSHOTS says (to look at them afterwards).
    shots = process.env.BF_SCREENSHOTS ?? dir;
    fx = await populate(db.sql, new DirStore(join(dir, 'artifacts')), join(dir, 'outbox'));
    dash = createDashboard({
      sql: db.sql,
      store: new DirStore(join(dir, 'artifacts')),
      temporalUiUrl: TEMPORAL_UI,
      temporalNamespace: 'default',
      outboxDir: join(dir, 'outbox'),
    });
    base = (await dash.listen(0)).url;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // The pages are meant to work without script: prove it by turning it off.
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1300, height: 900 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await db?.drop();
  });

  it('home: the branch shows its latest revision failing, linked to the revision and to its workflow', async () => {
    await page.goto(base + '/');
    const row = page.locator('table.branches tr', { hasText: 'master' }).first();
    await expect(row.locator('.st-fail').first().textContent()).resolves.toBe('fail');
    await expect(row.locator('a', { hasText: 'v6.1-rc1-1-gbbbbbbbb0123' }).getAttribute('href')).resolves.toBe(
      `/revisions/${fx.revB}`,
    );
    const temporal = await row.locator('a.temporal').getAttribute('href');
    expect(temporal).toBe(
      `${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(workflowIds.revision('demo', 'master', SHA_B))}`,
    );
    expect(await page.locator('table.branches').textContent()).toContain('no revision tested yet'); // mainline
  });

  it('revision: the failing boot is red in the boot matrix and leads to its log, where the panic line is highlighted', async () => {
    await page.goto(`${base}/revisions/${fx.revB}`);
    expect(await page.locator('h1').textContent()).toContain('demo/master');
    expect(await page.locator('dd', { hasText: 'mm: fix' }).textContent()).toBe(EVIL_SUBJECT); // shown as text, not run
    const cell = page.locator('table.boot-matrix td[data-platform="qemu-x86_64"][data-lab="farm"]');
    const link = cell.locator('a', { hasText: 'x86_64-defconfig' });
    expect(await link.textContent()).toBe('x86_64-defconfig: fail');
    expect(await css(link, 'color')).toBe(RED);
    expect(await css(cell, 'backgroundColor')).toBe('rgb(255, 245, 245)');
    const passing = page.locator('table.boot-matrix td[data-platform="qemu-arm64-virt"][data-lab="local"] a');
    expect(await css(passing, 'color')).toBe('rgb(26, 127, 55)');
    // The build matrix: arch columns, defconfig rows, the broken tinyconfig build in red with its error count.
    const tiny = page.locator('table.build-matrix tr', { hasText: 'tinyconfig' }).locator('a.st-fail');
    expect(await css(tiny, 'color')).toBe(RED);
    expect(await page.locator('table.build-matrix tr', { hasText: 'tinyconfig' }).textContent()).toContain(
      '1 error, 0 warnings',
    );
    expect(await page.locator('a.temporal').count()).toBeGreaterThan(1);
    await page.screenshot({ path: join(shots, 'revision.png'), fullPage: true });

    await link.click();
    await page.waitForURL(/\/boots\/\d+$/);
    expect(fx.failingBootIds).toContain(Number(new URL(page.url()).pathname.split('/').pop()));
    const panic = page.locator('pre.log .hl-panic');
    expect(await panic.textContent()).toBe(PANIC_LINE);
    expect(await css(panic, 'backgroundColor')).toBe('rgb(139, 26, 26)');
    expect(await page.locator('pre.log .hl-warning').textContent()).toMatch(/^WARNING: CPU: 0/);
    expect(await page.locator('pre.log > span:not(:has(.hl-panic)):not(:has(.hl-warning)) .hl-panic').count()).toBe(0);
    const raw = await page.locator('a', { hasText: 'raw' }).getAttribute('href');
    expect(raw).toBe('/artifacts/' + fx.panicLogKey);
    expect(await page.locator('a.temporal').getAttribute('href')).toBe(
      `${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(workflowIds.buildBoot('demo', SHA_B, 'x86_64-defconfig'))}`,
    );
    await page.screenshot({ path: join(shots, 'boot.png'), fullPage: true });
    const logResponse = await page.goto(base + raw);
    expect(logResponse?.headers()['content-type']).toBe('text/plain; charset=utf-8');
    expect(await page.locator('body').textContent()).toContain(PANIC_LINE);
  });

  it('regressions: the new boot regression is listed with its last good and first bad revisions and its bisection', async () => {
    await page.goto(base + '/regressions');
    const row = page.locator('table.regressions tr.regression', { hasText: 'qemu-x86_64' });
    expect(await row.count()).toBe(1);
    const text = await row.textContent();
    expect(text).toContain('x86_64-defconfig');
    expect(text).toContain('new');
    expect(await row.locator('td').nth(6).locator('a').getAttribute('href')).toBe(`/revisions/${fx.revB}`); // first bad
    expect(await row.locator('td').nth(5).locator('a').getAttribute('href')).toBe(`/revisions/${fx.revA}`); // last good
    await row.locator('a', { hasText: `#${fx.bisectionId}` }).click();
    await page.waitForURL(`${base}/bisections/${fx.bisectionId}`);
    expect(await page.locator('dd.culprit').textContent()).toBe(SHA_B);
    expect(await page.locator('table.checks tr', { hasText: 'revert' }).textContent()).toContain('passed');
    expect(await page.locator('table.steps tr.step').count()).toBe(2);
    expect(await page.locator('a.temporal').first().getAttribute('href')).toContain(
      `${TEMPORAL_UI}/namespaces/default/workflows/bisect%3Ademo`,
    );
    await page.screenshot({ path: join(shots, 'bisection.png'), fullPage: true });
  });

  it('labs, platforms, charts and the outbox show what an admin and a maintainer look for', async () => {
    await page.goto(base + '/labs');
    const farm = page.locator('table.labs tr.lab', { hasText: 'farm' });
    expect(await farm.locator('td').nth(1).textContent()).toBe('api');
    const local = page.locator('table.labs tr.lab', { hasText: 'local' });
    expect(await local.locator('td').nth(2).textContent()).toBe('online');
    expect(await local.locator('td').nth(3).textContent()).toBe('3');

    await page.goto(base + '/platforms');
    expect(await page.locator('h2').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('bcm2711'), expect.stringContaining('qemu')]),
    );

    await page.goto(base + '/charts');
    expect(await page.locator('svg.chart').count()).toBe(2);
    expect(await page.locator('svg.chart').nth(1).locator('rect[fill="#cf222e"] title').allTextContents()).toEqual([
      expect.stringMatching(/: 2 fail$/),
    ]); // today's failed boots
    await page.screenshot({ path: join(shots, 'charts.png'), fullPage: true });

    await page.goto(base + '/outbox');
    await page.locator('table.outbox a').first().click();
    expect(await page.locator('h1').textContent()).toContain('régression');
    expect(await page.locator('pre.mail').textContent()).toContain(PANIC_LINE);
  });
});
