/**
 * The HTML alternative part, rendered with MJML from the same report model as
 * the text part. Every value from the database is escaped.
 */
import mjml2html from 'mjml';
import type { ReportKind, SeriesState } from '../../domain/reports';
import type { LabResult, ReportModel } from './model';
import { reportSubject } from './subject';
import { onlyInLabsText } from './text';

export class MjmlRenderError extends Error {
  constructor(errors: { formattedMessage: string }[]) {
    super(`report template is not valid MJML: ${errors.map((e) => e.formattedMessage).join('; ')}`);
    this.name = 'MjmlRenderError';
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string | number) => String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const STATE_LABELS: Record<SeriesState, { label: string; color: string }> = {
  'new-regression': { label: 'new regression', color: '#c0392b' },
  'failing-again': { label: 'failing again after a fix', color: '#c0392b' },
  'still-failing': { label: 'still failing', color: '#d35400' },
  'no-history': { label: 'failing, no earlier result', color: '#7f8c8d' },
  fixed: { label: 'fixed', color: '#27ae60' },
};
const STATUS_COLORS: Record<string, string> = {
  pass: '#27ae60',
  fail: '#c0392b',
  offline: '#7f8c8d',
  'infra-error': '#d35400',
};

const link = (url: string | null, text: string) => (url ? `<a href="${esc(url)}">${esc(text)}</a>` : '');
/** the raw log and the result's dashboard page */
const links = (r: { logUrl: string | null; pageUrl: string }) =>
  [link(r.logUrl, 'log'), link(r.pageUrl, 'details')].filter(Boolean).join(' ');
const status = (s: string) => `<span style="color:${STATUS_COLORS[s] ?? '#333333'};font-weight:bold">${esc(s)}</span>`;
const revision = (sha: string | null, describe: string | null) =>
  sha
    ? `${describe ? `${esc(describe)}<br/>` : ''}<code style="white-space:nowrap">${esc(sha.slice(0, 12))}</code>`
    : '';

function table(head: string[], rows: string[][]): string {
  const th = head
    .map(
      (h) =>
        `<th style="text-align:left;padding:4px 8px;border-bottom:1px solid #cccccc;white-space:nowrap">${esc(h)}</th>`,
    )
    .join('');
  const trs = rows
    .map((r) => `<tr>${r.map((c) => `<td style="padding:4px 8px;vertical-align:top">${c}</td>`).join('')}</tr>`)
    .join('');
  return `<mj-table font-size="13px"><tr>${th}</tr>${trs}</mj-table>`;
}

function section(title: string, body: string): string {
  return `<mj-section padding="8px 0"><mj-column><mj-text font-size="16px" font-weight="bold">${esc(title)}</mj-text>${body}</mj-column></mj-section>`;
}

const labCell = (results: LabResult[]) =>
  results.map((r) => `${r.lab ? `${esc(r.lab)}: ` : ''}${status(r.status)} ${links(r)}`).join('<br/>');

function header(m: ReportModel, kind: ReportKind): string {
  const rows: [string, string][] = [
    ['Tree', esc(m.tree)],
    ['Branch', esc(m.branch)],
    ['Describe', esc(m.describe)],
    ['Commit', `<code>${esc(m.sha)}</code>`],
    ...(m.commitSubject ? [['Subject', esc(m.commitSubject)] as [string, string]] : []),
    ...(m.author ? [['Author', esc(m.author)] as [string, string]] : []),
    ...(m.gitUrl ? [['Git URL', esc(m.gitUrl)] as [string, string]] : []),
    ['Dashboard', link(m.dashboardUrl, 'all results of this revision')],
  ];
  const late = m.late
    ? `<mj-text>Follow-up: ${kind === 'build' ? m.late.builds.length : m.late.boots.length} ${kind} result(s) came in after the first report.</mj-text>`
    : '';
  const info = `<mj-table font-size="13px">${rows.map(([k, v]) => `<tr><td style="padding:2px 8px;font-weight:bold;white-space:nowrap">${k}</td><td style="padding:2px 8px">${v}</td></tr>`).join('')}</mj-table>`;
  return `<mj-section><mj-column><mj-text font-size="20px" font-weight="bold">${esc(reportSubject(m, kind))}</mj-text>${late}${info}</mj-column></mj-section>`;
}

function regressions(m: ReportModel, kind: ReportKind): string {
  const items = m.regressions.filter((r) => r.kind === kind);
  if (!items.length) return '';
  const rows = items.map((r) => [
    `<span style="color:${STATE_LABELS[r.state].color};font-weight:bold">${esc(STATE_LABELS[r.state].label)}</span>`,
    esc(kind === 'build' ? r.config : `${r.config} on ${r.platform}`),
    revision(r.lastGoodSha, r.lastGoodDescribe),
    revision(r.firstBadSha, r.firstBadDescribe),
    r.failingDays === null || r.state === 'fixed' ? '' : esc(`${r.failingDays} d`),
    [
      labCell(r.results),
      r.onlyInLabs?.length ? esc(onlyInLabsText(r.onlyInLabs, r.passingInLabs ?? [])) : '',
      r.history.length
        ? esc(
            `history: ${r.history.map((h) => `${h.event.replace('-', ' ')} at ${h.describe ?? h.sha.slice(0, 12)}`).join(', ')}`,
          )
        : '',
    ]
      .filter(Boolean)
      .join('<br/>'),
  ]);
  return section(
    'Regressions',
    table(['State', kind === 'build' ? 'Config' : 'Series', 'Last good', 'First bad', 'Failing', 'Results'], rows),
  );
}

function bootBody(m: ReportModel): string {
  const b = m.boots;
  const counts = table(
    ['Total', 'Passed', 'Failed', 'Offline', 'Infra-error', 'Lab-specific'],
    [[b.total, b.pass, b.fail, b.offline, b.infraError, b.labSpecific].map(esc)],
  );
  const parts = [section('Boots', counts), regressions(m, 'boot')];
  if (m.tests.length) {
    const perPlatform = m.tests.map((t) =>
      [t.platform, t.total, t.counts.PASS, t.counts.FAIL, t.counts.ERROR, t.counts.SKIP, t.counts.MISS].map(esc),
    );
    const failing = m.tests.flatMap((t) =>
      t.failures.map((f) => [
        esc(t.platform),
        `<span style="color:${f.status === 'MISS' ? STATUS_COLORS.offline : STATUS_COLORS.fail};font-weight:bold">${esc(f.status)}</span> <code>${esc(f.path)}</code>`,
        esc(`${f.config} (${f.lab})`),
        `${esc(f.reason)}${f.excerpt.length ? `<pre style="margin:4px 0">${esc(f.excerpt.join('\n'))}</pre>` : ''}`,
        link(f.pageUrl, 'details'),
      ]),
    );
    parts.push(
      section(
        'Tests',
        table(['Platform', 'Tests', 'Passed', 'Failed', 'Errors', 'Skipped', 'Not run'], perPlatform) +
          (failing.length ? table(['Platform', 'Test', 'Config (lab)', 'Why', 'Boot'], failing) : ''),
      ),
    );
  }
  if (m.bootFailuresByPlatform.length) {
    const rows = m.bootFailuresByPlatform.flatMap((g) =>
      g.items.map((f) => [esc(g.name), esc(f.config), esc(f.lab), esc(f.message), links(f)]),
    );
    parts.push(section('Boot failures by platform', table(['Platform', 'Config', 'Lab', 'Message', 'Log'], rows)));
    const byConfig = m.bootFailuresByConfig.map((g) => [
      esc(g.name),
      esc(g.items.length),
      esc(g.items.map((f) => `${f.platform} (${f.lab})`).join(', ')),
    ]);
    parts.push(section('Boot failures by defconfig', table(['Config', 'Failed', 'Platforms'], byConfig)));
  }
  if (m.offline.length) {
    const rows = m.offline.map((g) => [esc(g.name), esc(g.items.map((i) => `${i.config} (${i.lab})`).join(', '))]);
    parts.push(section('Offline platforms', table(['Platform', 'Configs (lab)'], rows)));
  }
  if (m.labSpecific.length) {
    const rows = m.labSpecific.map((c) => [
      esc(c.config),
      esc(c.platform),
      esc(onlyInLabsText(c.failingLabs, c.passingLabs)),
      labCell(c.results),
    ]);
    parts.push(section('Lab-specific failures', table(['Config', 'Platform', 'Where', 'Labs'], rows)));
  }
  if (m.flaky.length) {
    const rows = m.flaky.map((f) => [
      esc(`${f.config} on ${f.platform}`),
      esc(f.lab),
      esc(f.outcomes),
      status(f.verdict),
      esc(`${Math.round(f.flakeRate * 100)}%`),
    ]);
    parts.push(
      section('Flaky boots', table(['Series', 'Lab', 'Boots (F fail, P pass)', 'Counted', 'Flake rate'], rows)),
    );
  }
  return parts.join('');
}

function buildBody(m: ReportModel): string {
  const b = m.builds;
  const counts = table(
    ['Total', 'Passed', 'Failed', 'Infra-error', 'Errors', 'Warnings'],
    [[b.total, b.pass, b.fail, b.infraError, b.errors, b.warnings].map(esc)],
  );
  const parts = [section('Builds', counts), regressions(m, 'build')];
  if (m.buildFailures.length) {
    const rows = m.buildFailures.map((f) => [
      esc(f.config),
      esc(`${f.arch} ${f.defconfig} ${f.toolchain}`),
      esc(f.errors),
      esc(f.warnings),
      esc(f.message),
      links(f),
    ]);
    parts.push(section('Build failures', table(['Config', 'Build', 'Errors', 'Warnings', 'Message', 'Log'], rows)));
  }
  if (m.errorSummary.length)
    parts.push(
      section(
        'Errors summary',
        table(
          ['Builds', 'Error'],
          m.errorSummary.map((e) => [esc(e.count), `<code>${esc(e.text)}</code>`]),
        ),
      ),
    );
  if (m.warningSummary.length)
    parts.push(
      section(
        'Warnings summary',
        table(
          ['Warnings', 'Config'],
          m.warningSummary.map((w) => [esc(w.count), esc(w.text)]),
        ),
      ),
    );
  return parts.join('');
}

/** The MJML source of a report (exported so tests can validate the template itself). */
export function reportMjml(m: ReportModel, kind: ReportKind): string {
  return `<mjml>
  <mj-head>
    <mj-title>${esc(reportSubject(m, kind))}</mj-title>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="14px" line-height="20px" color="#222222" />
    </mj-attributes>
  </mj-head>
  <mj-body width="760px">
    ${header(m, kind)}
    ${kind === 'build' ? buildBody(m) : bootBody(m)}
  </mj-body>
</mjml>`;
}

export async function renderHtml(m: ReportModel, kind: ReportKind): Promise<string> {
  const result = await mjml2html(reportMjml(m, kind), { validationLevel: 'strict' });
  if (result.errors.length) throw new MjmlRenderError(result.errors);
  return result.html;
}
