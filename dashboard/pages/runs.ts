import type { Sql } from 'postgres';
import { ArtifactNotFoundError, type ArtifactStore } from '../../plumbing/store/types';
import { markup, path, queryString, type SafeHtml } from '../html';
import { notFound } from '../http';
import { getBuild } from '../data/builds';
import { bootFilters, bootStatuses, bootsOfBuild, getBoot, listBoots } from '../data/boots';
import { revisionsOfCommit } from '../data/revisions';
import { bisectionIdOf } from '../data/bisections';
import { renderLog } from '../logView';
import type { Revision } from '../data/rows';
import { duration, layout, pager, short, statusBadge, time, workflowLink, type PageContext } from './layout';
import { artifactHref, bootsTable, expired, filterForm, nextHref, revisionLabel } from './tables';
import { filterValues, pageQuery } from './query';

async function logSection(
  store: ArtifactStore,
  key: string | null,
  what: string,
  expiredAt: string | null,
): Promise<SafeHtml> {
  if (!key)
    return markup`<h2>Log</h2>
      <p class="muted">No ${what} log was stored.</p>`;
  if (expiredAt)
    return markup`<h2>Log ${expired(expiredAt)}</h2>
      <p class="muted">The ${what} log expired: the retention policy removed it on ${time(expiredAt)}.</p>`;
  let log: Buffer;
  try {
    log = await store.get(key);
  } catch (e) {
    if (e instanceof ArtifactNotFoundError)
      return markup`<h2>Log</h2>
        <p class="muted">The ${what} log <code>${key}</code> is no longer in the artifact store.</p>`;
    throw e;
  }
  const view = renderLog(log);
  return markup`<h2>
      Log <span class="small"><a href="${artifactHref(key)}">raw</a></span>
    </h2>
    ${
      view.skippedBytes
        ? markup`<p class="muted">The first ${view.skippedBytes} bytes are left out; the raw log has everything.</p>`
        : ''
    }
    ${
      view.problems.length
        ? markup`<ul class="problems">
          ${view.problems.slice(0, 10).map(
            (p) =>
              markup`<li>
                  <a href="#L${p.line}">line ${p.line}</a> ${statusBadge(
                    p.kind === 'warning' ? 'infra-error' : 'fail',
                    p.kind,
                  )} <code>${p.text}</code>
                </li>`,
          )}
        </ul>`
        : markup`<p class="muted">No panic, error or warning lines.</p>`
    }
    ${view.html}`;
}

function revisionLinks(revs: Revision[]): SafeHtml {
  if (!revs.length) return markup`<span class="muted">not part of a tested revision</span>`;
  return markup`${revs.map(
    (r, i) =>
      markup`${i ? ', ' : ''}<a href="${path('revisions', r.id)}">${r.tree}/${r.branch} ${revisionLabel(r)}</a>
        <span class="small">${r.subject}</span>`,
  )}`;
}

/**
 * Whose result a build or boot is: the revisions that tested the commit, or
 * the bisection that made it (its rows are apart from the revision's, which
 * stay as the revision's report read them).
 */
async function ownerRow(sql: Sql, row: { tree: string; sha: string; bisection: string | null }): Promise<SafeHtml> {
  if (row.bisection) {
    const id = await bisectionIdOf(sql, row.bisection);
    return markup`<dt>Bisection</dt>
      <dd>
        ${id === null ? row.bisection : markup`<a href="${path('bisections', id)}">#${id}</a>`}
        <span class="small muted">a bisection's own result; the revision's results of this commit are on its page</span>
      </dd>`;
  }
  return markup`<dt>Revision</dt>
    <dd>${revisionLinks(await revisionsOfCommit(sql, row.tree, row.sha))}</dd>`;
}

export async function buildPage(sql: Sql, store: ArtifactStore, ctx: PageContext, id: number): Promise<SafeHtml> {
  const build = await getBuild(sql, id);
  if (!build) throw notFound('build', 'id');
  const [owner, boots] = await Promise.all([ownerRow(sql, build), bootsOfBuild(sql, build.id)]);
  const artifacts = Object.entries(build.artifacts ?? {}).filter(([, a]) => a && typeof a.key === 'string');
  // the log stays longer than the rest: its own section says when it goes
  const gone = (role: string) => (role === 'log' ? build.logExpiredAt : build.artifactsExpiredAt);
  return layout(
    `Build ${build.config} ${short(build.sha)}`,
    markup`<h1>Build #${build.id}: ${build.config} ${statusBadge(build.status)}</h1>
      <dl class="kv">
        <dt>Tree</dt>
        <dd>${build.tree}</dd>
        <dt>Commit</dt>
        <dd class="mono">${build.sha}</dd>
        ${owner}
        <dt>Arch</dt>
        <dd>${build.arch}</dd>
        <dt>defconfig</dt>
        <dd>${build.defconfig}</dd>
        <dt>Toolchain</dt>
        <dd>${build.toolchain}</dd>
        <dt>Errors / warnings</dt>
        <dd>${build.errors} errors, ${build.warnings} warnings</dd>
        <dt>Duration</dt>
        <dd>${duration(build.durationMs)}</dd>
        <dt>Builder</dt>
        <dd>${build.builder ?? '–'}</dd>
        <dt>Started</dt>
        <dd>${time(build.createdAt)}</dd>
        ${
          build.message
            ? markup`<dt>Message</dt>
              <dd>${build.message}</dd>`
            : ''
        }
        <dt>Workflow</dt>
        <dd>${workflowLink(ctx, build.workflowId, build.workflowId ?? 'workflow')}</dd>
      </dl>
      ${
        build.errorLines?.length
          ? markup`<h2>First errors</h2>
            <pre class="log">${build.errorLines.map((l) => markup`<span class="hl-error">${l}</span>\n`)}</pre>`
          : ''
      }
      <h2>Artifacts</h2>
      ${
        artifacts.length
          ? markup`<ul class="artifacts">
            ${artifacts.map(
              ([role, a]) =>
                markup`<li>
                  ${gone(role) ? markup`${role} ${expired(gone(role) as string)}` : markup`<a href="${artifactHref(a.key)}">${role}</a>`}
                  <span class="muted small">${a.key}${a.size !== undefined ? ` (${a.size} bytes)` : ''}</span>
                </li>`,
            )}
          </ul>`
          : markup`<p class="muted">None.</p>`
      }
      <h2>Boots of this build</h2>
      ${bootsTable(ctx, boots)} ${await logSection(store, build.logKey, 'build', build.logExpiredAt)}`,
  );
}

export async function bootPage(sql: Sql, store: ArtifactStore, ctx: PageContext, id: number): Promise<SafeHtml> {
  const boot = await getBoot(sql, id);
  if (!boot) throw notFound('boot', 'id');
  const owner = await ownerRow(sql, boot);
  return layout(
    `Boot ${boot.platform} ${boot.config}`,
    markup`<h1>Boot #${boot.id}: ${boot.platform} in ${boot.lab} ${statusBadge(boot.status)}</h1>
      <dl class="kv">
        <dt>Tree</dt>
        <dd>${boot.tree}</dd>
        <dt>Commit</dt>
        <dd class="mono">${boot.sha}</dd>
        ${owner}
        <dt>Build</dt>
        <dd><a href="${path('builds', boot.buildId)}">${boot.config}</a> (${boot.arch})</dd>
        <dt>Platform</dt>
        <dd>${boot.platform}</dd>
        <dt>Lab</dt>
        <dd>${boot.lab}</dd>
        <dt>Run</dt>
        <dd>${boot.run}</dd>
        <dt>Attempts</dt>
        <dd>${boot.attempts}</dd>
        <dt>Duration</dt>
        <dd>${duration(boot.durationMs)}</dd>
        <dt>Started</dt>
        <dd>${time(boot.createdAt)}</dd>
        ${
          boot.message
            ? markup`<dt>Verdict line</dt>
              <dd><code>${boot.message}</code></dd>`
            : ''
        }
        <dt>Workflow</dt>
        <dd>${workflowLink(ctx, boot.workflowId, boot.workflowId ?? 'workflow')}</dd>
      </dl>
      ${await logSection(store, boot.logKey, 'console', boot.logExpiredAt)}`,
  );
}

export async function bootsPage(sql: Sql, ctx: PageContext, query: URLSearchParams): Promise<SafeHtml> {
  const f = pageQuery(bootFilters, query);
  const page = await listBoots(sql, f);
  const values = filterValues(f);
  return layout(
    'Boots',
    markup`<h1>Boots</h1>
      ${filterForm('/boots', [
        { name: 'tree', label: 'tree', value: values.tree },
        { name: 'config', label: 'config', value: values.config },
        { name: 'platform', label: 'platform', value: values.platform },
        { name: 'lab', label: 'lab', value: values.lab },
        { name: 'status', label: 'status', value: values.status, options: bootStatuses },
      ])}
      ${bootsTable(ctx, page.items)}${pager(nextHref('/boots', values, page.nextCursor))}
      <p class="small muted">
        JSON: <a href="${'/api/boots' + queryString(values)}">/api/boots${queryString(values)}</a>
      </p>`,
  );
}
