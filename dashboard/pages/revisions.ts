import type { Sql } from 'postgres';
import { html, path, type SafeHtml } from '../html';
import { notFound } from '../http';
import { branchOverview, getRevision, listRevisions, revisionFilters } from '../data/revisions';
import { buildsOf } from '../data/builds';
import { bootsOf } from '../data/boots';
import { fromRow, type Boot, type Build, type Regression, type Revision } from '../data/rows';
import { countsText, layout, statusBadge, statusLink, time, workflowLink, pager, type PageContext } from './layout';
import { bootsTable, filterForm, nextHref, regressionLabelRow, revisionLabel, revisionsTable } from './tables';
import { filterValues, pageQuery } from './query';

export async function homePage(sql: Sql, ctx: PageContext): Promise<SafeHtml> {
  const [branches, recent] = await Promise.all([branchOverview(sql), listRevisions(sql, { limit: 15 })]);
  return layout(
    'Trees',
    html`<h1>Trees and branches</h1>
      ${branches.length
        ? html`<table class="branches">
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
                  ? html`<tr>
                      <td>${b.tree}</td>
                      <td>
                        <a
                          href="${'/revisions' +
                          `?tree=${encodeURIComponent(b.tree)}&branch=${encodeURIComponent(b.branch ?? '')}`}"
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
                  : html`<tr>
                      <td>${b.tree}</td>
                      <td colspan="7" class="muted">no revision tested yet</td>
                    </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">No trees configured yet.</p>`}
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
    html`<h1>Revisions</h1>
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

function buildMatrix(builds: Build[]): SafeHtml {
  if (!builds.length) return html`<p class="muted">No builds recorded for this revision.</p>`;
  const archs = [...new Set(builds.map((b) => b.arch))].sort();
  const rowKey = (b: Build) => (b.toolchain && b.toolchain !== 'gcc' ? `${b.defconfig} (${b.toolchain})` : b.defconfig);
  const rows = [...new Set(builds.map(rowKey))].sort();
  return html`<table class="matrix build-matrix">
    <thead>
      <tr>
        <th>defconfig \\ arch</th>
        ${archs.map((a) => html`<th>${a}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            <th>${r}</th>
            ${archs.map((a) => {
              const cell = builds.filter((b) => b.arch === a && rowKey(b) === r);
              const cls = cell.some((b) => b.status === 'fail')
                ? 'cell-fail'
                : cell.length && cell.every((b) => b.status === 'pass')
                  ? 'cell-pass'
                  : '';
              return html`<td class="${cls}">
                ${cell.map(
                  (b) =>
                    html`<div>
                      ${statusLink(path('builds', b.id), b.status, b.status, `${b.config}: ${b.status}`)}
                      <span class="small ${b.errors ? '' : 'muted'}">${b.errors} errors</span>,
                      <span class="small ${b.warnings ? '' : 'muted'}">${b.warnings} warnings</span>
                    </div>`,
                )}
              </td>`;
            })}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

const CELL_LIST_ALL = 12;

function bootMatrix(boots: Boot[]): SafeHtml {
  if (!boots.length) return html`<p class="muted">No boots recorded for this revision.</p>`;
  const labs = [...new Set(boots.map((b) => b.lab))].sort();
  const platforms = [...new Set(boots.map((b) => b.platform))].sort();
  return html`<table class="matrix boot-matrix">
    <thead>
      <tr>
        <th>platform \\ lab</th>
        ${labs.map((l) => html`<th>${l}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${platforms.map(
        (p) =>
          html`<tr>
            <th>${p}</th>
            ${labs.map((l) => {
              const cell = boots.filter((b) => b.platform === p && b.lab === l);
              if (!cell.length) return html`<td class="muted">–</td>`;
              const counts: Record<string, number> = {};
              for (const b of cell) counts[b.status] = (counts[b.status] ?? 0) + 1;
              const shown = cell.length <= CELL_LIST_ALL ? cell : cell.filter((b) => b.status !== 'pass');
              const cls = counts.fail ? 'cell-fail' : counts.pass === cell.length ? 'cell-pass' : '';
              return html`<td class="${cls}" data-platform="${p}" data-lab="${l}">
                ${cell.length > CELL_LIST_ALL ? html`<div>${countsText(counts)}</div>` : ''}${shown.map((b) =>
                  statusLink(
                    path('boots', b.id),
                    b.status,
                    `${b.config}${b.run ? ` #${b.run}` : ''}: ${b.status}`,
                    b.message ?? b.status,
                  ),
                )}
              </td>`;
            })}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export async function revisionPage(sql: Sql, ctx: PageContext, id: number): Promise<SafeHtml> {
  const rev = await getRevision(sql, id);
  if (!rev) throw notFound('revision', 'id');
  const [builds, boots, regressions] = await Promise.all([
    buildsOf(sql, rev.tree, rev.sha),
    bootsOf(sql, rev.tree, rev.sha),
    regressionsAt(sql, rev),
  ]);
  const problems = boots.filter((b) => b.status !== 'pass');
  const buildCounts: Record<string, number> = {};
  for (const b of builds) buildCounts[b.status] = (buildCounts[b.status] ?? 0) + 1;
  const bootCounts: Record<string, number> = {};
  for (const b of boots) bootCounts[b.status] = (bootCounts[b.status] ?? 0) + 1;
  return layout(
    `${rev.tree}/${rev.branch} ${revisionLabel(rev)}`,
    html`<h1>${rev.tree}/${rev.branch}: ${revisionLabel(rev)} ${statusBadge(rev.result ?? rev.status)}</h1>
      <dl class="kv">
        <dt>Commit</dt>
        <dd class="mono">${rev.sha}</dd>
        <dt>Subject</dt>
        <dd>${rev.subject}</dd>
        <dt>Author</dt>
        <dd>${rev.author}${rev.authorEmail ? html` &lt;${rev.authorEmail}&gt;` : ''}</dd>
        <dt>Committed</dt>
        <dd>${time(rev.committedAt)}</dd>
        <dt>Tested</dt>
        <dd>${time(rev.startedAt)} → ${time(rev.finishedAt)} (${rev.status})</dd>
        ${rev.message
          ? html`<dt>Message</dt>
              <dd>${rev.message}</dd>`
          : ''}
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
      ${regressions.length
        ? html`<h2>Regressions</h2>
            <ul>
              ${regressions.map((r) => html`<li>${regressionLabelRow(r)}</li>`)}
            </ul>`
        : ''}
      <h2>Builds</h2>
      ${buildMatrix(builds)}
      <h2>Boots</h2>
      ${bootMatrix(boots)}
      ${problems.length
        ? html`<h2>Boots that did not pass</h2>
            ${bootsTable(ctx, problems)}`
        : ''}`,
  );
}
