/**
 * The bisection report: who gets it, its subject, its plain-text body (lines
 * of at most 80 columns, for terminal mail clients) and its HTML alternative.
 * Pure except for the MJML rendering.
 */
import mjml2html from 'mjml';
import type { BisectReportRequest, CulpritInfo, NonMonotonic } from '../../domain/bisect';
import { sha12 } from '../../domain/ids';
import { WIDTH, clip, field, heading, urlLine, wrap } from '../report/textLayout';
import { DEFAULT_MAX_COMMIT_RECIPIENTS, chooseRecipients, type NotMailed } from '../report/recipients';
import { publicTreeUrl } from '../../domain/publicUrl';

export interface BisectReportContent {
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  text: string;
  html?: string;
}

export interface BisectReportInput {
  req: BisectReportRequest;
  culprit?: CulpritInfo;
  /** lines of the failing boot log around the failure */
  logExcerpt: string[];
  logUrl: string | null;
  /** the bisection's page on the dashboard */
  pageUrl: string | null;
  /** addresses the culprit's commit named that are not mailed, and why */
  notMailed?: NotMailed[];
}

const uniq = (xs: string[]) => xs.filter((x, i) => xs.findIndex((y) => y.toLowerCase() === x.toLowerCase()) === i);

/**
 * A confirmed culprit goes to its author and the people its trailers name
 * (one mailbox per entry, at most report.maxCommitRecipients of them), with
 * the tree's list in copy; anything less certain goes to the list only.
 */
export function bisectRecipients(
  req: BisectReportRequest,
  culprit?: CulpritInfo,
): { to: string[]; cc: string[]; notMailed: NotMailed[] } {
  const listOnly = { to: uniq(req.report.to), cc: uniq(req.report.cc).filter((a) => !req.report.to.includes(a)) };
  if (!(req.verdict.status === 'found' && req.verdict.confirmed && culprit)) return { ...listOnly, notMailed: [] };
  const list = uniq([...req.report.to, ...req.report.cc]);
  const { chosen, notMailed } = chooseRecipients([culprit.authorEmail, ...culprit.trailerEntries], {
    max: req.report.maxCommitRecipients ?? DEFAULT_MAX_COMMIT_RECIPIENTS,
    exclude: list,
  });
  return chosen.length ? { to: chosen, cc: list, notMailed } : { ...listOnly, notMailed };
}

export function bisectSubject(req: BisectReportRequest): string {
  const where = `${req.tree}${req.branch ? `/${req.branch}` : ''} bisection: boot on ${req.platform} (${req.configName})`;
  const v = req.verdict;
  const tags = `${v.confirmed ? '' : ' [unconfirmed]'}${v.nonMonotonic?.length ? ' [not monotonic]' : ''}`;
  if (v.status === 'found' && v.culprit) return `${where}${tags}: ${sha12(v.culprit.sha)} "${v.culprit.subject}"`;
  if (v.status === 'not-found') return `${where}: ${v.suspects?.length ?? 0} possible first bad commits`;
  return `${where}: ${v.summary}`;
}

/** Lines of a boot log around its first failure pattern (or its end), cut to fit a mail. */
export function logExcerpt(log: string, failurePatterns: string[], before = 15, after = 6): string[] {
  const lines = log.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const hit = lines.findIndex((l) => failurePatterns.some((p) => p && l.includes(p)));
  const end = hit >= 0 ? Math.min(lines.length, hit + after + 1) : lines.length;
  const start = Math.max(0, (hit >= 0 ? hit : end) - before);
  return lines.slice(start, end);
}

const CHECK_LABEL: Record<string, string> = {
  passed: 'passed',
  failed: 'FAILED',
  'not-run': 'not run',
  'not-applicable': 'n/a',
};

/** The two transitions a contradiction showed, one line each. */
function nonMonotonicLines(n: NonMonotonic): string[] {
  return [
    ...(n.goodBefore
      ? wrap(`broke: ${sha12(n.goodBefore)} boots, ${sha12(n.bad)} fails`, '  ', '    ')
      : wrap(`broke: ${sha12(n.bad)} fails`, '  ', '    ')),
    ...wrap(`fixed: ${sha12(n.bad)} fails, its descendant ${sha12(n.good)} boots`, '  ', '    '),
  ];
}

export function bisectText(input: BisectReportInput): string {
  const { req, culprit } = input;
  const v = req.verdict;
  const r = req.range;
  const out: string[] = [];
  out.push(
    ...wrap(
      `Bootfarm bisected a boot regression of ${req.tree}${req.branch ? `/${req.branch}` : ''} on ${req.platform} in lab ${req.lab}.`,
    ),
  );
  if (v.status === 'found' && !v.confirmed) {
    out.push(
      '',
      ...wrap(
        'The culprit below is UNCONFIRMED: some of the checks that back a bisection result failed (see Checks). This report goes to the list only.',
      ),
    );
  }
  out.push(
    '',
    ...field('Verdict', v.summary),
    ...field('Tree', `${req.tree}${req.branch ? ` ${req.branch}` : ''}`),
    ...field('Git URL', publicTreeUrl(req.url)),
  );
  out.push(...field('Config', req.configName), ...field('Platform', req.platform), ...field('Lab', req.lab));
  r.good.forEach((g, i) => out.push(...field('Good', `${g} ${r.goodSubjects[i] ?? ''}`.trim())));
  if (r.fromMergeBase) out.push(...wrap(`(the merge base: ${r.givenGood} is not an ancestor of bad)`, ' '.repeat(11)));
  out.push(...field('Bad', `${r.bad} ${r.badSubject}`));
  if (input.pageUrl) out.push(...field('Dashboard', input.pageUrl));

  if (v.status === 'found' && v.culprit) {
    out.push('', ...heading('First bad commit'), `commit ${v.culprit.sha}`);
    if (culprit)
      out.push(
        ...wrap(`Author: ${culprit.author} <${culprit.authorEmail}>`),
        ...(culprit.describe ? [`Describe: ${culprit.describe}`] : []),
      );
    out.push('', ...wrap(v.culprit.subject, '    '));
  }
  if (input.notMailed?.length) {
    out.push('', ...heading('Not mailed (addresses from the commit that were left out)'));
    for (const n of input.notMailed) out.push(...wrap(`${n.entry}: ${n.reason}`, '  ', '    '));
  }
  if (v.suspects?.length) {
    out.push('', ...heading('Possible first bad commits (the others could not be tested)'));
    for (const s of v.suspects) out.push(`  ${s}`);
  }

  if (v.nonMonotonic?.length) {
    out.push('', ...heading('History not monotonic'));
    out.push(
      ...wrap(
        'A commit that fails has a descendant that boots, re-tested both ways: the breakage came, went and came back. The culprit above is the breakage nearest the bad commit.',
      ),
    );
    for (const n of v.nonMonotonic) out.push(...nonMonotonicLines(n));
  }
  if (v.notes?.length) {
    out.push('', ...heading('Re-tests and what they changed'));
    for (const n of v.notes) out.push(...wrap(n, '  ', '    '));
  }

  out.push('', ...heading('Checks'));
  for (const c of v.checks)
    out.push(...wrap(c.detail, `  ${c.name.padEnd(10)} ${CHECK_LABEL[c.outcome].padEnd(8)} `, ' '.repeat(22)));

  if (input.logExcerpt.length > 0 || input.logUrl) {
    out.push('', ...heading('Failing boot log (excerpt)'));
    for (const l of input.logExcerpt) out.push(clip(`  ${l}`, WIDTH));
    if (input.logUrl) out.push('', urlLine(input.logUrl, '  '));
  }

  out.push('', ...heading('git bisect log'));
  for (const l of req.bisectLog.trimEnd().split('\n')) out.push(...(l.startsWith('#') ? wrap(l, '', '#   ') : [l]));
  out.push('', '-- ', 'Bootfarm, kernel CI on Temporal');
  return out.join('\n') + '\n';
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

export function bisectMjml(input: BisectReportInput): string {
  const { req, culprit } = input;
  const v = req.verdict;
  const rows: [string, string][] = [
    ['Verdict', esc(v.summary)],
    ['Tree', esc(`${req.tree}${req.branch ? ` ${req.branch}` : ''}`)],
    ['Config', esc(req.configName)],
    ['Platform', esc(req.platform)],
    ['Lab', esc(req.lab)],
    ...req.range.good.map((g, i): [string, string] => [
      'Good',
      `<code>${esc(g)}</code> ${esc(req.range.goodSubjects[i] ?? '')}`,
    ]),
    ['Bad', `<code>${esc(req.range.bad)}</code> ${esc(req.range.badSubject)}`],
    ...(v.culprit
      ? [['First bad commit', `<code>${esc(v.culprit.sha)}</code> ${esc(v.culprit.subject)}`] as [string, string]]
      : []),
    ...(culprit ? [['Author', esc(`${culprit.author} <${culprit.authorEmail}>`)] as [string, string]] : []),
    ...(input.pageUrl
      ? [['Dashboard', `<a href="${esc(input.pageUrl)}">${esc(input.pageUrl)}</a>`] as [string, string]]
      : []),
  ];
  const table = (body: string) => `<mj-table font-size="13px">${body}</mj-table>`;
  const info = table(
    rows
      .map(
        ([k, val]) =>
          `<tr><td style="padding:2px 8px;font-weight:bold;vertical-align:top">${esc(k)}</td><td style="padding:2px 8px">${val}</td></tr>`,
      )
      .join(''),
  );
  const checks = table(
    v.checks
      .map(
        (c) =>
          `<tr><td style="padding:2px 8px">${esc(c.name)}</td><td style="padding:2px 8px;font-weight:bold">${esc(CHECK_LABEL[c.outcome])}</td><td style="padding:2px 8px">${esc(c.detail)}</td></tr>`,
      )
      .join(''),
  );
  const pre = (lines: string[]) => `<mj-text><pre style="font-size:12px">${esc(lines.join('\n'))}</pre></mj-text>`;
  const section = (title: string, body: string) =>
    `<mj-section padding="8px 0"><mj-column><mj-text font-size="16px" font-weight="bold">${esc(title)}</mj-text>${body}</mj-column></mj-section>`;
  return [
    '<mjml><mj-body width="800px">',
    section(bisectSubject(req), info),
    input.notMailed?.length
      ? section(
          'Not mailed (addresses from the commit that were left out)',
          pre(input.notMailed.map((n) => `${n.entry}: ${n.reason}`)),
        )
      : '',
    v.nonMonotonic?.length
      ? section('History not monotonic', pre(v.nonMonotonic.flatMap(nonMonotonicLines).map((l) => l.trim())))
      : '',
    v.notes?.length ? section('Re-tests and what they changed', pre(v.notes)) : '',
    section('Checks', checks),
    input.logExcerpt.length
      ? section(
          'Failing boot log (excerpt)',
          pre(input.logExcerpt) +
            (input.logUrl ? `<mj-text><a href="${esc(input.logUrl)}">full log</a></mj-text>` : ''),
        )
      : '',
    section('git bisect log', pre(req.bisectLog.trimEnd().split('\n'))),
    '</mj-body></mjml>',
  ].join('');
}

export async function bisectHtml(input: BisectReportInput): Promise<string> {
  const { html, errors } = await mjml2html(bisectMjml(input), { validationLevel: 'strict' });
  if (errors.length)
    throw new Error(`bisection report template is not valid MJML: ${errors.map((e) => e.formattedMessage).join('; ')}`);
  return html;
}

export async function bisectReportContent(input: BisectReportInput): Promise<BisectReportContent> {
  const { to, cc, notMailed } = bisectRecipients(input.req, input.culprit);
  const withDropped = { ...input, notMailed };
  return {
    subject: bisectSubject(input.req),
    from: input.req.report.from,
    to,
    cc,
    text: bisectText(withDropped),
    html: input.req.report.textOnly ? undefined : await bisectHtml(withDropped),
  };
}
