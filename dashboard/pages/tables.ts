import { markup, path, queryString, type SafeHtml } from '../html';
import type { Bisection, Regression, Revision } from '../data/rows';
import type { Boot, Build } from '../../plumbing/db/rows';
import { duration, short, statusBadge, statusLink, time, workflowLink, type PageContext } from './layout';

export function revisionLabel(r: Pick<Revision, 'describe' | 'sha'>): string {
  return r.describe || short(r.sha);
}

export function revisionsTable(ctx: PageContext, revisions: Revision[]): SafeHtml {
  if (!revisions.length) return markup`<p class="muted">No revisions.</p>`;
  return markup`<table class="revisions">
    <thead>
      <tr>
        <th>Revision</th>
        <th>Tree / branch</th>
        <th>Subject</th>
        <th>Status</th>
        <th>Started</th>
        <th>Workflow</th>
      </tr>
    </thead>
    <tbody>
      ${revisions.map(
        (r) =>
          markup`<tr>
            <td><a href="${path('revisions', r.id)}">${revisionLabel(r)}</a></td>
            <td>${r.tree} / ${r.branch}</td>
            <td>${r.subject}</td>
            <td>${statusBadge(r.result ?? r.status)}</td>
            <td>${time(r.startedAt)}</td>
            <td>${workflowLink(ctx, r.workflowId)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function buildsTable(ctx: PageContext, builds: Build[]): SafeHtml {
  if (!builds.length) return markup`<p class="muted">No builds.</p>`;
  return markup`<table class="builds">
    <thead>
      <tr>
        <th>Build</th>
        <th>Config</th>
        <th>Arch</th>
        <th>Status</th>
        <th>Warnings</th>
        <th>Errors</th>
        <th>Duration</th>
        <th>Workflow</th>
      </tr>
    </thead>
    <tbody>
      ${builds.map(
        (b) =>
          markup`<tr>
            <td><a href="${path('builds', b.id)}">#${b.id}</a></td>
            <td>${b.config}</td>
            <td>${b.arch}</td>
            <td>${statusLink(path('builds', b.id), b.status, b.status)}</td>
            <td>${b.warnings}</td>
            <td>${b.errors}</td>
            <td>${duration(b.durationMs)}</td>
            <td>${workflowLink(ctx, b.workflowId)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function bootsTable(ctx: PageContext, boots: Boot[]): SafeHtml {
  if (!boots.length) return markup`<p class="muted">No boots.</p>`;
  return markup`<table class="boots">
    <thead>
      <tr>
        <th>Boot</th>
        <th>Tree</th>
        <th>Commit</th>
        <th>Config</th>
        <th>Platform</th>
        <th>Lab</th>
        <th>Run</th>
        <th>Status</th>
        <th>Message</th>
        <th>Log</th>
        <th>Started</th>
        <th>Workflow</th>
      </tr>
    </thead>
    <tbody>
      ${boots.map(
        (b) =>
          markup`<tr>
            <td><a href="${path('boots', b.id)}">#${b.id}</a></td>
            <td>${b.tree}</td>
            <td class="mono">${short(b.sha)}</td>
            <td>${b.config}</td>
            <td>${b.platform}</td>
            <td>${b.lab}</td>
            <td>${b.run}</td>
            <td>${statusLink(path('boots', b.id), b.status, b.status)}</td>
            <td class="small">${b.message ?? ''}</td>
            <td>${logLink(b.logKey, b.logExpiredAt)}</td>
            <td>${time(b.createdAt)}</td>
            <td>${workflowLink(ctx, b.workflowId)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function artifactHref(key: string): string {
  return '/artifacts/' + key.split('/').map(encodeURIComponent).join('/');
}

/** What the retention sweep removed is named as such, with when, instead of a link to nothing. */
export function expired(at: string): SafeHtml {
  return markup`<span class="muted" title="removed by the retention policy on ${at.slice(0, 10)}">expired</span>`;
}

/** A log's link, "expired" once the retention sweep removed it, nothing when none was stored. */
export function logLink(key: string | null, expiredAt: string | null): SafeHtml | string {
  if (!key) return '';
  return expiredAt ? expired(expiredAt) : markup`<a href="${artifactHref(key)}">log</a>`;
}

function daysSince(iso: string): number {
  return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 86_400_000));
}

export function regressionsTable(
  ctx: PageContext,
  regressions: Regression[],
  revisionIds: Map<string, number>,
): SafeHtml {
  if (!regressions.length) return markup`<p class="muted">No regressions.</p>`;
  const commit = (r: Regression, sha: string | null) => {
    if (!sha) return markup`<span class="muted">–</span>`;
    const id = revisionIds.get(`${r.tree}\u0000${r.branch}\u0000${sha}`);
    return id
      ? markup`<a class="mono" href="${path('revisions', id)}">${short(sha)}</a>`
      : markup`<span class="mono">${short(sha)}</span>`;
  };
  return markup`<table class="regressions">
    <thead>
      <tr>
        <th>State</th>
        <th>Tree / branch</th>
        <th>Kind</th>
        <th>Config</th>
        <th>Platform</th>
        <th>Last good</th>
        <th>First bad</th>
        <th>Failing since</th>
        <th>Last bad / fixed</th>
        <th>Bisection</th>
      </tr>
    </thead>
    <tbody>
      ${regressions.map(
        (r) =>
          markup`<tr class="regression">
            <td>
              ${statusBadge(r.state)}
              ${r.flaps ? markup`<br /><span class="small">failed again ${r.flaps}× after a fix</span>` : ''}
              ${
                r.onlyInLabs?.length
                  ? markup`<br /><span class="small">fails only in ${r.onlyInLabs.join(', ')}</span>`
                  : ''
              }
            </td>
            <td>${r.tree} / ${r.branch}</td>
            <td>${r.kind}</td>
            <td>${r.config}</td>
            <td>${r.platform || markup`<span class="muted">–</span>`}</td>
            <td>${commit(r, r.lastGoodSha)}</td>
            <td>${commit(r, r.firstBadSha)}</td>
            <td>
              ${
                r.state === 'fixed'
                  ? markup`<span class="muted">fixed</span>`
                  : markup`${time(r.firstBadAt)} <span class="muted">(${daysSince(r.firstBadAt)} days)</span>`
              }
            </td>
            <td>${r.state === 'fixed' ? commit(r, r.fixedSha) : commit(r, r.lastBadSha)}</td>
            <td>
              ${
                r.bisectionId
                  ? markup`<a href="${path('bisections', r.bisectionId)}">#${r.bisectionId}</a>`
                  : markup`<span class="muted">–</span>`
              }
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function bisectionsTable(ctx: PageContext, bisections: Bisection[]): SafeHtml {
  if (!bisections.length) return markup`<p class="muted">No bisections.</p>`;
  return markup`<table class="bisections">
    <thead>
      <tr>
        <th>Bisection</th>
        <th>Tree</th>
        <th>Config</th>
        <th>Platform</th>
        <th>Good</th>
        <th>Bad</th>
        <th>Status</th>
        <th>Culprit</th>
        <th>Started</th>
        <th>Workflow</th>
      </tr>
    </thead>
    <tbody>
      ${bisections.map(
        (b) =>
          markup`<tr>
            <td><a href="${path('bisections', b.id)}">#${b.id}</a></td>
            <td>${b.tree}${b.branch ? ` / ${b.branch}` : ''}</td>
            <td>${b.config}</td>
            <td>${b.platform}</td>
            <td class="mono">${short(b.goodSha)}</td>
            <td class="mono">${short(b.badSha)}</td>
            <td>${statusBadge(b.status)}</td>
            <td class="mono">${short(b.culpritSha)}</td>
            <td>${time(b.createdAt)}</td>
            <td>${workflowLink(ctx, b.workflowId)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** A GET form of filters whose values come back filled in; the page stays usable without JavaScript. */
export function filterForm(
  action: string,
  fields: { name: string; label: string; value?: string; options?: readonly string[] }[],
): SafeHtml {
  return markup`<form class="filters" method="get" action="${action}">
    ${fields.map((f) =>
      f.options
        ? markup`<label
            >${f.label}<select name="${f.name}">
              <option value="">any</option>
              ${f.options.map((o) => markup`<option${o === f.value ? markup` selected` : ''}>${o}</option>`)}
            </select></label
          >`
        : markup`<label>${f.label}<input name="${f.name}" value="${f.value ?? ''}" size="14" /></label>`,
    )}<button type="submit">Filter</button>
  </form>`;
}

/** The next-page link of a list page: its filters plus the cursor. */
export function nextHref(
  base: string,
  filters: Record<string, string | undefined>,
  cursor: string | null,
): string | null {
  return cursor ? base + queryString({ ...filters, cursor }) : null;
}

export function regressionLabelRow(r: Regression): SafeHtml {
  return markup`<span class="regression"
    >${statusBadge(r.state)} ${r.kind} regression of ${r.config}${r.platform ? ` on ${r.platform}` : ''}: first bad
    ${short(r.firstBadSha)}${r.lastGoodSha ? `, last good ${short(r.lastGoodSha)}` : ''}${
      r.bisectionId ? markup`, <a href="${path('bisections', r.bisectionId)}">bisection #${r.bisectionId}</a>` : ''
    }</span
  >`;
}
