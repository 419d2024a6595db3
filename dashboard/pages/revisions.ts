import type { Sql } from 'postgres';
import { markup, path, type SafeHtml } from '../html';
import { notFound } from '../http';
import { branchOverview, getRevision, listRevisions, revisionFilters } from '../data/revisions';
import {
  CELL_LIST_ALL,
  revisionMatrix,
  type BootBrief,
  type BuildBrief,
  type RevisionMatrix,
} from '../data/revisionView';
import { fromRow, type Regression, type Revision } from '../data/rows';
import {
  countsText,
  layout,
  plural,
  statusBadge,
  statusLink,
  time,
  workflowLink,
  pager,
  type PageContext,
} from './layout';
import { filterForm, logLink, nextHref, regressionLabelRow, revisionLabel, revisionsTable } from './tables';
import { filterValues, pageQuery } from './query';
import { LIVE_REFRESH_SECONDS, revisionProgressBlock } from './progress';
import type { Client } from '@temporalio/client';

export async function homePage(sql: Sql, ctx: PageContext): Promise<SafeHtml> {
  const [branches, recent] = await Promise.all([branchOverview(sql), listRevisions(sql, { limit: 15 })]);
  return layout(
    'Trees',
    markup`<h1>Trees and branches</h1>
      ${
        branches.length
          ? markup`<table class="branches">
            <thead>
              <tr>
                <th>Tree</th>
                <th>Branch</th>
                <th>Latest revision</th>
                <th>Result</th>
                <th>Builds</th>
                <th>Boots</th>
                <th>Started</th>
                <th>Workflow</th>
              </tr>
            </thead>
            <tbody>
              ${branches.map((b) =>
                b.latest
                  ? markup`<tr>
                      <td>${b.tree}</td>
                      <td>
                        <a
                          href="${
                            '/revisions' +
                            `?tree=${encodeURIComponent(b.tree)}&branch=${encodeURIComponent(b.branch ?? '')}`
                          }"
                          >${b.branch}</a
                        >
                      </td>
                      <td>
                        <a href="${path('revisions', b.latest.id)}">${revisionLabel(b.latest)}</a>
                        <span class="muted small">${b.latest.subject}</span>
                      </td>
                      <td>${statusBadge(b.latest.result ?? b.latest.status)}</td>
                      <td>${countsText(b.builds)}</td>
                      <td>${countsText(b.boots)}</td>
                      <td>${time(b.latest.startedAt)}</td>
                      <td>${workflowLink(ctx, b.latest.workflowId)}</td>
                    </tr>`
                  : markup`<tr>
                      <td>${b.tree}</td>
                      <td colspan="7" class="muted">no revision tested yet</td>
                    </tr>`,
              )}
            </tbody>
          </table>`
          : markup`<p class="muted">No trees configured yet.</p>`
      }
      <h2>Recent revisions</h2>
      ${revisionsTable(ctx, recent.items)}`,
  );
}

export async function revisionsPage(sql: Sql, ctx: PageContext, query: URLSearchParams): Promise<SafeHtml> {
  const f = pageQuery(revisionFilters, query);
  const page = await listRevisions(sql, f);
  const values = filterValues(f);
  return layout(
    'Revisions',
    markup`<h1>Revisions</h1>
      ${filterForm('/revisions', [
        { name: 'tree', label: 'tree', value: values.tree },
        { name: 'branch', label: 'branch', value: values.branch },
        { name: 'result', label: 'result', value: values.result, options: ['pass', 'fail', 'infra-error'] },
      ])}
      ${revisionsTable(ctx, page.items)}${pager(nextHref('/revisions', values, page.nextCursor))}`,
  );
}

async function regressionsAt(sql: Sql, rev: Revision): Promise<Regression[]> {
  const rows = await sql`
    select * from regressions where tree = ${rev.tree} and branch = ${rev.branch}
      and (first_bad_sha = ${rev.sha} or last_bad_sha = ${rev.sha} or fixed_sha = ${rev.sha})
    order by kind, config, platform`;
  return rows.map(fromRow<Regression>);
}

function buildMatrix(builds: BuildBrief[]): SafeHtml {
  if (!builds.length) return markup`<p class="muted">No builds recorded for this revision.</p>`;
  const archs = [...new Set(builds.map((b) => b.arch))].sort();
  const rowKey = (b: BuildBrief) =>
    b.toolchain && b.toolchain !== 'gcc' ? `${b.defconfig} (${b.toolchain})` : b.defconfig;
  const grid = new Map<string, BuildBrief[]>();
  for (const b of builds) {
    const key = `${rowKey(b)}\u0000${b.arch}`;
    grid.set(key, [...(grid.get(key) ?? []), b]);
  }
  const rows = [...new Set(builds.map(rowKey))].sort();
  return markup`<table class="matrix build-matrix"><thead><tr><th>defconfig \\ arch</th>${archs.map((a) => markup`<th>${a}</th>`)}</tr></thead><tbody>
${rows.map(
  (r) =>
    markup`<tr><th>${r}</th>${archs.map((a) => {
      const cell = grid.get(`${r}\u0000${a}`) ?? [];
      const cls = cell.some((b) => b.status === 'fail')
        ? 'cell-fail'
        : cell.length && cell.every((b) => b.status === 'pass')
          ? 'cell-pass'
          : '';
      return markup`<td class="${cls}">${cell.map(
        (b) => markup`<div>${statusLink(path('builds', b.id), b.status, b.status, `${b.config}: ${b.status}`)}
<span class="small ${b.errors ? '' : 'muted'}">${plural(b.errors, 'error')}</span>, <span class="small ${b.warnings ? '' : 'muted'}">${plural(b.warnings, 'warning')}</span></div>`,
      )}</td>`;
    })}</tr>`,
)}</tbody></table>`;
}

function bootMatrix(m: RevisionMatrix): SafeHtml {
  if (!m.cells.length) return markup`<p class="muted">No boots recorded for this revision.</p>`;
  const labs = [...new Set(m.cells.map((c) => c.lab))].sort();
  const platforms = [...new Set(m.cells.map((c) => c.platform))].sort();
  const cells = new Map(m.cells.map((c) => [`${c.platform}\u0000${c.lab}`, c]));
  const shown = new Map<string, BootBrief[]>();
  for (const b of m.shownBoots) {
    const key = `${b.platform}\u0000${b.lab}`;
    shown.set(key, [...(shown.get(key) ?? []), b]);
  }
  return markup`<table class="matrix boot-matrix"><thead><tr><th>platform \\ lab</th>${labs.map((l) => markup`<th>${l}</th>`)}</tr></thead><tbody>
${platforms.map(
  (p) =>
    markup`<tr><th>${p}</th>${labs.map((l) => {
      const cell = cells.get(`${p}\u0000${l}`);
      if (!cell) return markup`<td class="muted">–</td>`;
      const cls = cell.counts.fail ? 'cell-fail' : cell.counts.pass === cell.total ? 'cell-pass' : '';
      return markup`<td class="${cls}" data-platform="${p}" data-lab="${l}">${cell.total > CELL_LIST_ALL ? markup`<div>${countsText(cell.counts)}</div>` : ''}${(
        shown.get(`${p}\u0000${l}`) ?? []
      ).map((b) =>
        statusLink(
          path('boots', b.id),
          b.status,
          `${b.config}${b.run ? ` #${b.run}` : ''}: ${b.status}`,
          b.message ?? b.status,
        ),
      )}</td>`;
    })}</tr>`,
)}</tbody></table>`;
}

function problemsTable(ctx: PageContext, boots: BootBrief[]): SafeHtml {
  return markup`<table class="boots"><thead><tr><th>Boot</th><th>Config</th><th>Platform</th><th>Lab</th><th>Run</th><th>Status</th><th>Message</th><th>Log</th><th>Workflow</th></tr></thead><tbody>
${boots.map(
  (
    b,
  ) => markup`<tr><td><a href="${path('boots', b.id)}">#${b.id}</a></td><td>${b.config}</td><td>${b.platform}</td><td>${b.lab}</td><td>${b.run}</td>
<td>${statusLink(path('boots', b.id), b.status, b.status)}</td><td class="small">${b.message ?? ''}</td><td>${logLink(b.logKey, b.logExpiredAt)}</td><td>${workflowLink(ctx, b.workflowId)}</td></tr>`,
)}</tbody></table>`;
}

export async function revisionPage(sql: Sql, ctx: PageContext & { client?: Client }, id: number): Promise<SafeHtml> {
  const rev = await getRevision(sql, id);
  if (!rev) throw notFound('revision', 'id');
  const live = rev.status === 'running';
  const [matrix, regressions, progress] = await Promise.all([
    revisionMatrix(sql, rev.tree, rev.sha),
    regressionsAt(sql, rev),
    live ? revisionProgressBlock(sql, ctx.client, rev) : undefined,
  ]);
  const problems = matrix.shownBoots.filter((b) => b.status !== 'pass');
  const buildCounts: Record<string, number> = {};
  for (const b of matrix.builds) buildCounts[b.status] = (buildCounts[b.status] ?? 0) + 1;
  const bootCounts: Record<string, number> = {};
  for (const c of matrix.cells)
    for (const [status, n] of Object.entries(c.counts)) bootCounts[status] = (bootCounts[status] ?? 0) + n;
  return layout(
    `${rev.tree}/${rev.branch} ${revisionLabel(rev)}`,
    markup`<h1>${rev.tree}/${rev.branch}: ${revisionLabel(rev)} ${statusBadge(rev.result ?? rev.status)}</h1>
      <dl class="kv">
        <dt>Commit</dt>
        <dd class="mono">${rev.sha}</dd>
        <dt>Subject</dt>
        <dd>${rev.subject}</dd>
        <dt>Author</dt>
        <dd>${rev.author}${rev.authorEmail ? markup` &lt;${rev.authorEmail}&gt;` : ''}</dd>
        <dt>Committed</dt>
        <dd>${time(rev.committedAt)}</dd>
        <dt>Tested</dt>
        <dd>${time(rev.startedAt)} → ${time(rev.finishedAt)} (${rev.status})</dd>
        ${
          rev.message
            ? markup`<dt>Message</dt>
              <dd>${rev.message}</dd>`
            : ''
        }
        <dt>Builds</dt>
        <dd>${countsText(buildCounts)}</dd>
        <dt>Boots</dt>
        <dd>${countsText(bootCounts)}</dd>
        <dt>Workflow</dt>
        <dd>${workflowLink(ctx, rev.workflowId, rev.workflowId ?? 'workflow')}</dd>
        <dt>Data</dt>
        <dd>
          <a href="${path('api', 'revisions', rev.id)}">JSON</a> ·
          <a href="${path('api', 'revisions', rev.id, 'kcidb')}">KCIDB</a>
        </dd>
      </dl>
      ${progress ?? ''}
      ${
        regressions.length
          ? markup`<h2>Regressions</h2>
            <ul>
              ${regressions.map((r) => markup`<li>${regressionLabelRow(r)}</li>`)}
            </ul>`
          : ''
      }
      <h2>Builds</h2>
      ${buildMatrix(matrix.builds)}
      <h2>Boots</h2>
      ${bootMatrix(matrix)}
      ${
        problems.length
          ? markup`<h2>Boots that did not pass</h2>
            ${problemsTable(ctx, problems)}`
          : ''
      }`,
    live ? { refreshSeconds: LIVE_REFRESH_SECONDS } : {},
  );
}
