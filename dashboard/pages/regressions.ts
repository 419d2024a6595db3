import type { Sql } from 'postgres';
import { markup, path, type SafeHtml } from '../html';
import { notFound } from '../http';
import { listRegressions, regressionFilters, regressionStates } from '../data/regressions';
import {
  bisectionFilters,
  bisectionStatuses,
  getBisection,
  listBisections,
  regressionsOfBisection,
} from '../data/bisections';
import type { Regression } from '../data/rows';
import { layout, pager, short, statusBadge, time, workflowLink, type PageContext } from './layout';
import { artifactHref, bisectionsTable, bootsTable, filterForm, nextHref, regressionsTable } from './tables';
import { bootsOfBisection } from '../data/boots';
import { filterValues, pageQuery } from './query';
import { LIVE_REFRESH_SECONDS, bisectionProgressBlock } from './progress';
import type { Client } from '@temporalio/client';

/** Revision ids of the commits a list of regressions names, to link them (one indexed query). */
async function revisionIdsOf(sql: Sql, regressions: Regression[]): Promise<Map<string, number>> {
  const keys: [string, string, string][] = [];
  for (const r of regressions)
    for (const sha of [r.lastGoodSha, r.firstBadSha, r.lastBadSha, r.fixedSha])
      if (sha) keys.push([r.tree, r.branch, sha]);
  if (!keys.length) return new Map();
  const rows = await sql<{ id: string; tree: string; branch: string; sha: string }[]>`
    select r.id, r.tree, r.branch, r.sha from revisions r
    join unnest(${keys.map((k) => k[0])}::text[], ${keys.map((k) => k[1])}::text[], ${keys.map((k) => k[2])}::text[]) as k(tree, branch, sha)
      on r.tree = k.tree and r.branch = k.branch and r.sha = k.sha`;
  return new Map(rows.map((r) => [`${r.tree}\u0000${r.branch}\u0000${r.sha}`, Number(r.id)]));
}

export async function regressionsPage(sql: Sql, ctx: PageContext, query: URLSearchParams): Promise<SafeHtml> {
  const f = pageQuery(regressionFilters, query);
  if (!f.state && !f.active) f.active = 'true';
  const page = await listRegressions(sql, f);
  const ids = await revisionIdsOf(sql, page.items);
  const values = filterValues(f);
  return layout(
    'Regressions',
    markup`<h1>
        ${f.state ? `Regressions: ${f.state}` : f.active === 'true' ? 'Active regressions' : 'Fixed regressions'}
      </h1>
      ${filterForm('/regressions', [
        { name: 'tree', label: 'tree', value: values.tree },
        { name: 'branch', label: 'branch', value: values.branch },
        { name: 'kind', label: 'kind', value: values.kind, options: ['build', 'boot'] },
        { name: 'config', label: 'config', value: values.config },
        { name: 'platform', label: 'platform', value: values.platform },
        { name: 'state', label: 'state', value: values.state, options: regressionStates },
      ])}
      <p class="small"><a href="/regressions">active</a> · <a href="/regressions?active=false">fixed</a></p>
      ${regressionsTable(ctx, page.items, ids)}${pager(nextHref('/regressions', values, page.nextCursor))}`,
  );
}

export async function bisectionsPage(sql: Sql, ctx: PageContext, query: URLSearchParams): Promise<SafeHtml> {
  const f = pageQuery(bisectionFilters, query);
  const page = await listBisections(sql, f);
  const values = filterValues(f);
  return layout(
    'Bisections',
    markup`<h1>Bisections</h1>
      ${filterForm('/bisections', [
        { name: 'tree', label: 'tree', value: values.tree },
        { name: 'config', label: 'config', value: values.config },
        { name: 'platform', label: 'platform', value: values.platform },
        { name: 'status', label: 'status', value: values.status, options: bisectionStatuses },
      ])}
      ${bisectionsTable(ctx, page.items)}${pager(nextHref('/bisections', values, page.nextCursor))}`,
  );
}

const SHA40 = /^[0-9a-f]{40}$/;

function cellValue(v: unknown): SafeHtml | string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return SHA40.test(v) ? markup`<span class="mono" title="${v}">${short(v)}</span>` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return markup`<code>${JSON.stringify(v)}</code>`;
}

/** good/bad/skip and check outcomes in the colours of pass/fail/skip. */
const VERDICT_STYLE: Record<string, string> = {
  good: 'pass',
  bad: 'fail',
  skip: 'skip',
  passed: 'pass',
  failed: 'fail',
  'not-run': 'skip',
  'not-applicable': 'skip',
};

const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };

/** A column per key the steps have; the keys of domain/bisect.ts's BisectStep get their own rendering. */
function stepsTable(ctx: PageContext, steps: unknown): SafeHtml {
  if (!Array.isArray(steps) || !steps.length) return markup`<p class="muted">No steps recorded yet.</p>`;
  const rows = steps.map(obj);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'subject');
  const cell = (r: Record<string, unknown>, k: string): SafeHtml | string => {
    const v = r[k];
    if (k === 'sha' && typeof v === 'string')
      return markup`${cellValue(v)} <span class="small">${typeof r.subject === 'string' ? r.subject : ''}</span>`;
    if (k === 'verdict' && typeof v === 'string') return statusBadge(VERDICT_STYLE[v] ?? v, v);
    if ((k === 'build' || k === 'boot' || k === 'status') && typeof v === 'string') return statusBadge(v);
    if (k === 'workflowId' && typeof v === 'string') return workflowLink(ctx, v);
    if (k === 'logKey' && typeof v === 'string') return markup`<a href="${artifactHref(v)}">log</a>`;
    return cellValue(v);
  };
  return markup`<table class="steps">
    <thead>
      <tr>
        <th>#</th>
        ${keys.map((k) => markup`<th>${k}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r, i) =>
          markup`<tr class="step">
            <td>${i + 1}</td>
            ${keys.map((k) => markup`<td>${cell(r, k)}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** domain/bisect.ts's BisectVerdict: summary, culprit, confirmation and checks; anything else as key/value. */
function verdictView(verdict: unknown): SafeHtml {
  if (verdict === null || verdict === undefined) return markup`<p class="muted">No verdict yet.</p>`;
  const v = obj(verdict);
  const culprit = obj(v.culprit);
  const checks = Array.isArray(v.checks) ? v.checks.map(obj) : [];
  const rest = Object.entries(v).filter(([k]) => !['summary', 'culprit', 'checks', 'confirmed', 'status'].includes(k));
  return markup`${typeof v.summary === 'string' ? markup`<p class="verdict-summary"><strong>${v.summary}</strong></p>` : ''}
    <dl class="kv verdict">
      ${
        typeof v.status === 'string'
          ? markup`<dt>Status</dt>
            <dd>${statusBadge(v.status)}</dd>`
          : ''
      }
      ${
        typeof culprit.sha === 'string'
          ? markup`<dt>Culprit</dt>
            <dd>
              <span class="mono">${culprit.sha}</span> ${typeof culprit.subject === 'string' ? culprit.subject : ''}
            </dd>`
          : ''
      }
      ${
        typeof v.confirmed === 'boolean'
          ? markup`<dt>Confirmed</dt>
            <dd>${v.confirmed ? statusBadge('pass', 'confirmed') : statusBadge('infra-error', 'unconfirmed')}</dd>`
          : ''
      }
      ${rest.map(
        ([k, val]) =>
          markup`<dt>${k}</dt>
            <dd>${cellValue(val)}</dd>`,
      )}
    </dl>
    ${
      checks.length
        ? markup`<table class="checks">
          <thead>
            <tr>
              <th>Check</th>
              <th>Outcome</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            ${checks.map(
              (c) =>
                markup`<tr>
                  <td>${cellValue(c.name)}</td>
                  <td>
                    ${
                      typeof c.outcome === 'string' ? statusBadge(VERDICT_STYLE[c.outcome] ?? c.outcome, c.outcome) : ''
                    }
                  </td>
                  <td>${cellValue(c.detail)}</td>
                </tr>`,
            )}
          </tbody>
        </table>`
        : ''
    }`;
}

export async function bisectionPage(sql: Sql, ctx: PageContext & { client?: Client }, id: number): Promise<SafeHtml> {
  const b = await getBisection(sql, id);
  if (!b) throw notFound('bisection', 'id');
  const live = b.status === 'running';
  const [regressions, boots, progress] = await Promise.all([
    regressionsOfBisection(sql, id),
    bootsOfBisection(sql, b.workflowId),
    live ? bisectionProgressBlock(ctx.client, b.workflowId) : undefined,
  ]);
  return layout(
    `Bisection #${b.id}`,
    markup`<h1>Bisection #${b.id}: ${b.config} on ${b.platform} ${statusBadge(b.status)}</h1>
      <dl class="kv">
        <dt>Tree</dt>
        <dd>${b.tree}${b.branch ? ` / ${b.branch}` : ''}</dd>
        <dt>Good</dt>
        <dd class="mono">${b.goodSha}</dd>
        <dt>Bad</dt>
        <dd class="mono">${b.badSha}</dd>
        <dt>Config</dt>
        <dd>${b.config}</dd>
        <dt>Platform</dt>
        <dd>${b.platform}</dd>
        <dt>Lab</dt>
        <dd>${b.lab ?? 'any'}</dd>
        <dt>Culprit</dt>
        <dd class="mono culprit">${b.culpritSha ?? markup`<span class="muted">not found (yet)</span>`}</dd>
        <dt>Started</dt>
        <dd>${time(b.createdAt)}</dd>
        <dt>Finished</dt>
        <dd>${time(b.finishedAt)}</dd>
        <dt>Workflow</dt>
        <dd>${workflowLink(ctx, b.workflowId, b.workflowId)}</dd>
      </dl>
      ${
        regressions.length
          ? markup`<p>
            Started for
            ${regressions.map(
              (r) =>
                markup`<a
                  href="${
                    '/regressions?tree=' +
                    encodeURIComponent(r.tree) +
                    '&branch=' +
                    encodeURIComponent(r.branch) +
                    '&config=' +
                    encodeURIComponent(r.config)
                  }"
                  >${r.kind} regression of ${r.config}${r.platform ? ` on ${r.platform}` : ''}</a
                > `,
            )}
          </p>`
          : ''
      }
      ${progress ?? ''}
      <h2>Verdict</h2>
      ${verdictView(b.verdict)}
      <h2>Steps</h2>
      ${stepsTable(ctx, b.steps)}
      <h2>Boots</h2>
      <p class="small muted">
        Every boot this bisection made, in rows of its own: the revisions' results of the same commits are on their
        pages, as their reports read them.
      </p>
      ${bootsTable(ctx, boots)}
      <h2>git bisect log</h2>
      ${b.bisectLog ? markup`<pre class="log">${b.bisectLog}</pre>` : markup`<p class="muted">None yet.</p>`}
      <p class="small"><a href="${path('api', 'bisections', b.id)}">JSON</a></p>`,
    live ? { refreshSeconds: LIVE_REFRESH_SECONDS } : {},
  );
}
