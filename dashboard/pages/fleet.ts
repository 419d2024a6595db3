import type { Sql } from 'postgres';
import { z } from 'zod';
import { markup, path, queryString, type SafeHtml } from '../html';
import { listLabs } from '../data/labs';
import { platformCoverage } from '../data/platforms';
import { listFlakiness } from '../data/flakiness';
import type { Flakiness } from '../data/rows';
import { dailyCounts } from '../data/stats';
import { stackedBars, type Series } from '../svgChart';
import { countsText, layout, statusBadge, statusLink, time } from './layout';
import { pageQuery } from './query';
import { intParam } from '../validate';

export async function labsPage(sql: Sql): Promise<SafeHtml> {
  const labs = await listLabs(sql);
  return layout(
    'Labs',
    markup`<h1>Labs</h1>
      ${
        labs.length
          ? markup`<table class="labs">
            <thead>
              <tr>
                <th>Lab</th>
                <th>Adapter</th>
                <th>Health</th>
                <th>Capacity</th>
                <th>Platforms (boards, health)</th>
                <th>Queued</th>
                <th>Running</th>
                <th>Waiting for the lab (API)</th>
                <th>Last result</th>
                <th>Last poll</th>
              </tr>
            </thead>
            <tbody>
              ${labs.map(
                (l) =>
                  markup`<tr class="lab">
                    <td><a href="${'/boots' + queryString({ lab: l.name })}">${l.name}</a></td>
                    <td>${l.adapter}</td>
                    <td>${statusBadge(l.health)}</td>
                    <td>${l.capacity}</td>
                    <td class="lab-platforms">
                      ${l.platforms.map(
                        (p, i) =>
                          markup`${i ? markup`<br />` : ''}<span class="lab-platform" data-platform="${p.name}"
                              >${p.name} ×${p.capacity} ${statusBadge(p.health)}</span
                            >`,
                      )}
                    </td>
                    <td>${l.queued}</td>
                    <td>${l.running}</td>
                    <td>${l.adapter === 'api' ? l.pendingJobs : markup`<span class="muted">–</span>`}</td>
                    <td>
                      ${
                        l.lastBoot
                          ? markup`${statusLink(
                              path('boots', l.lastBoot.id),
                              l.lastBoot.status,
                              l.lastBoot.status,
                              l.lastBoot.platform,
                            )}
                          ${time(l.lastBoot.createdAt)}`
                          : markup`<span class="muted">none</span>`
                      }
                    </td>
                    <td>${time(l.lastPollAt)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
          : markup`<p class="muted">No labs configured.</p>`
      }`,
  );
}

/** The flakiest boot series: the rate, and the recent kernels' boots (F fail, P pass, in run order). */
function flakinessTable(series: Flakiness[]): SafeHtml {
  if (!series.length) return markup`<p class="muted">No boot series recorded yet.</p>`;
  return markup`<table class="flakiness">
    <thead>
      <tr>
        <th>Config</th>
        <th>Platform</th>
        <th>Lab</th>
        <th>Flake rate</th>
        <th>Flakes / boots</th>
        <th>Recent kernels (newest first)</th>
      </tr>
    </thead>
    <tbody>
      ${series.map(
        (f) =>
          markup`<tr>
            <td>${f.config}</td>
            <td>${f.platform}</td>
            <td>${f.lab}</td>
            <td>${`${Math.round(f.flakeRate * 100)}%`}</td>
            <td>${f.flakes} / ${f.boots} over ${f.kernels} kernels</td>
            <td class="mono small">${f.series.map((k) => k.outcomes).join(' ')}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export async function platformsPage(sql: Sql): Promise<SafeHtml> {
  const [families, flakiness] = await Promise.all([platformCoverage(sql, 30), listFlakiness(sql, { limit: 50 })]);
  return layout(
    'Platforms',
    markup`<h1>Platform coverage by SoC family</h1>
      <p class="muted small">Boots of the last 30 days.</p>
      ${families.length ? '' : markup`<p class="muted">No platforms configured.</p>`}
      ${families.map(
        (f) =>
          markup`<h2>${f.soc || 'unknown SoC'} <span class="small">${countsText(f.boots)}</span></h2>
            <table class="platforms">
              <thead>
                <tr>
                  <th>Platform</th>
                  <th>Arch</th>
                  <th>DTB</th>
                  <th>Boot method</th>
                  <th>Labs</th>
                  <th>Boots (30 days)</th>
                  <th>Last boot</th>
                </tr>
              </thead>
              <tbody>
                ${f.platforms.map(
                  (p) =>
                    markup`<tr>
                      <td><a href="${'/boots' + queryString({ platform: p.name })}">${p.name}</a></td>
                      <td>${p.arch}</td>
                      <td>${p.dtb ?? '–'}</td>
                      <td>${p.bootMethod}</td>
                      <td>${p.labs.length ? p.labs.join(', ') : markup`<span class="st st-fail">in no lab</span>`}</td>
                      <td>${countsText(p.boots)}</td>
                      <td>${time(p.lastBootAt)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`,
      )}
      <h2>Flakiness</h2>
      <p class="muted small">
        A flake is a boot whose verdict differs from its kernel's latest verdict on the same platform in the same lab
        (booted again, it answered the other way); the rate is flakes / verdict boots over a series' last 20 kernels.
        Flaky series get more confirmation boots before a failure or a fix is believed.
      </p>
      ${flakinessTable(flakiness)}`,
  );
}

export const chartQuery = z.strictObject({
  days: intParam(1, 365, 30, 'number of days (1 to 365, default 30)').optional(),
});

const BUILD_SERIES: Series[] = [
  { statuses: ['pass'], label: 'pass', color: '#2da44e' },
  { statuses: ['fail'], label: 'fail', color: '#cf222e' },
  { statuses: ['infra-error'], label: 'infra-error', color: '#d4a72c' },
  { statuses: ['running'], label: 'running', color: '#54aeff' },
];
const BOOT_SERIES: Series[] = [
  { statuses: ['pass'], label: 'pass', color: '#2da44e' },
  { statuses: ['fail'], label: 'fail', color: '#cf222e' },
  { statuses: ['infra-error'], label: 'infra-error', color: '#d4a72c' },
  { statuses: ['offline', 'skip'], label: 'offline/skip', color: '#8c959f' },
  { statuses: ['queued', 'running'], label: 'queued/running', color: '#54aeff' },
];

export async function chartsPage(sql: Sql, query: URLSearchParams): Promise<SafeHtml> {
  const days = pageQuery(chartQuery, query).days ?? 30;
  const data = await dailyCounts(sql, days);
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  return layout(
    'Charts',
    markup`<h1>Builds and boots per day</h1>
      <p class="small">
        Last ${days} days (UTC): ${[7, 30, 90].map((d) => markup` <a href="/charts?days=${d}">${d}</a>`)}
      </p>
      <h2>Builds</h2>
      ${stackedBars(
        'Builds per day',
        data.map((d) => ({ label: d.day, counts: d.builds })),
        BUILD_SERIES,
      )}
      <h2>Boots</h2>
      ${stackedBars(
        'Boots per day',
        data.map((d) => ({ label: d.day, counts: d.boots })),
        BOOT_SERIES,
      )}
      <h2>Figures</h2>
      <table class="daily">
        <thead>
          <tr>
            <th>Day</th>
            <th>Builds</th>
            <th>Build failures</th>
            <th>Boots</th>
            <th>Boot failures</th>
          </tr>
        </thead>
        <tbody>
          ${[...data].reverse().map(
            (d) =>
              markup`<tr>
                <td>${d.day}</td>
                <td>${total(d.builds)}</td>
                <td>${d.builds.fail ?? 0}</td>
                <td>${total(d.boots)}</td>
                <td>${d.boots.fail ?? 0}</td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  );
}
