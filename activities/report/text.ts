/**
 * The text/plain part, the one kernel mailing lists read: fed only with the
 * report model, lines of at most 80 columns, no markup. Results link to
 * their dashboard page (`<dashboard>/boots/<id>`, which shows the log): short
 * enough for a line, where a log's artifact URL usually is not.
 */
import type { ReportKind, SeriesState } from '../../domain/reports';
import type { BootFailure, FlakyItem, Grouped, HistoryEntry, LabResult, RegressionItem, ReportModel } from './model';
import { clip, field, heading, urlLine, wrap, WIDTH } from './textLayout';
import { testSectionLines } from './testSection';

const STATE_TITLES: Record<SeriesState, string> = {
  'new-regression': 'Regressions',
  'failing-again': 'Failing again after a fix',
  'still-failing': 'Still failing',
  'no-history': 'Failing, no earlier result',
  fixed: 'Fixed',
};

/** `next-20261126 (0123456789ab)`, or the short sha alone */
const revision = (sha: string | null, describe: string | null) =>
  describe ? `${describe} (${(sha ?? '').slice(0, 12)})` : (sha ?? '?').slice(0, 12);

function since(r: RegressionItem): string {
  if (r.failingDays === null) return '';
  if (r.failingDays === 0) return 'failing since today';
  return `failing since ${r.failingDays} day${r.failingDays === 1 ? '' : 's'}`;
}

/** `fails only in lab X (passes in lab Y)` */
export function onlyInLabsText(failing: string[], passing: string[]): string {
  const labs = (names: string[]) => `lab${names.length === 1 ? '' : 's'} ${names.join(', ')}`;
  return `fails only in ${labs(failing)}${passing.length ? ` (passes in ${labs(passing)})` : ''}`;
}

const EVENT_TEXT: Record<HistoryEntry['event'], string> = {
  failed: 'failed at',
  fixed: 'fixed at',
  'failed-again': 'failed again at',
};

/** `history: failed at A, fixed at B, failed again at C` */
function historyText(history: HistoryEntry[]): string {
  return `history: ${history.map((h) => `${EVENT_TEXT[h.event]} ${revision(h.sha, h.describe)}`).join(', ')}`;
}

const percent = (rate: number) => `${Math.round(rate * 100)}%`;

/** `failed, then passed when booted again` from "FP"; `failed, then failed and passed …` from "FFP" */
function flakyText(f: FlakyItem): string {
  const word = (o: string) => (o === 'P' ? 'passed' : 'failed');
  const [first, ...again] = f.outcomes.split('');
  return `${word(first)}, then ${again.map(word).join(' and ')} when booted again`;
}

/** `lab: status - message` and the result's page; a build (no lab) shows its message and page only. */
function labLines(results: LabResult[], indent: string): string[] {
  return results.flatMap((res) => {
    const what = res.lab ? `${res.lab}: ${res.status}${res.message ? ` - ${res.message}` : ''}` : res.message;
    return [...(what ? wrap(what, indent, `${indent}  `) : []), urlLine(res.pageUrl, `${indent}  `)];
  });
}

function regressionLines(items: RegressionItem[]): string[] {
  const out: string[] = [];
  for (const state of Object.keys(STATE_TITLES) as (keyof typeof STATE_TITLES)[]) {
    const list = items.filter((r) => r.state === state);
    if (!list.length) continue;
    out.push(...heading(`${STATE_TITLES[state]} (${list.length})`));
    for (const r of list) {
      out.push(...wrap(r.kind === 'build' ? `${r.config}: build` : `${r.config} on ${r.platform}: boot`, '  ', '    '));
      const facts = [
        r.lastGoodSha ? `last good: ${revision(r.lastGoodSha, r.lastGoodDescribe)}` : '',
        r.firstBadSha && state !== 'new-regression' ? `first bad: ${revision(r.firstBadSha, r.firstBadDescribe)}` : '',
        r.fixedSha ? `fixed at: ${revision(r.fixedSha, r.fixedDescribe)}` : '',
        state !== 'fixed' ? since(r) : '',
      ].filter(Boolean);
      if (facts.length) out.push(...wrap(facts.join(', '), '    ', '      '));
      if (r.onlyInLabs?.length)
        out.push(...wrap(onlyInLabsText(r.onlyInLabs, r.passingInLabs ?? []), '    ', '      '));
      if (r.history.length) out.push(...wrap(historyText(r.history), '    ', '      '));
      out.push(...labLines(r.results, '    '));
    }
    out.push('');
  }
  return out;
}

function header(m: ReportModel, kind: ReportKind): string[] {
  const out: string[] = [];
  if (m.late) {
    const n = kind === 'build' ? m.late.builds.length : m.late.boots.length;
    out.push(
      ...wrap(`Follow-up: ${n} ${kind} result${n === 1 ? '' : 's'} came in after the first report. Updated summary:`),
      '',
    );
  }
  out.push(
    ...field('Tree', m.tree),
    ...field('Branch', m.branch),
    ...field('Describe', m.describe),
    ...field('Commit', m.sha),
    ...(m.commitSubject ? field('Subject', clip(m.commitSubject, WIDTH - 11)) : []),
    ...(m.author ? field('Author', clip(m.author, WIDTH - 11)) : []),
    ...(m.gitUrl ? field('Git URL', m.gitUrl) : []),
    ...field('Dashboard', m.dashboardUrl),
    '',
  );
  return out;
}

function bootFailureLines(groups: Grouped<BootFailure>[]): string[] {
  return groups.flatMap((g) => [
    `${clip(g.name, WIDTH - 1)}:`,
    ...g.items.flatMap((f) => [
      ...wrap(`${f.config} (${f.lab})${f.message ? `: ${f.message}` : ''}`, '  ', '    '),
      urlLine(f.pageUrl, '    '),
    ]),
  ]);
}

function bootBody(m: ReportModel): string[] {
  const b = m.boots;
  const out = [
    ...wrap(
      `Boots: ${b.total} total, ${b.pass} passed, ${b.fail} failed, ${b.offline} offline, ${b.infraError} infra-error` +
        `${b.skip ? `, ${b.skip} skipped` : ''}${b.pending ? `, ${b.pending} pending` : ''}, ${b.labSpecific} lab-specific`,
    ),
    '',
    ...regressionLines(m.regressions.filter((r) => r.kind === 'boot')),
    ...testSectionLines(m.tests),
  ];
  if (m.bootFailuresByPlatform.length) {
    out.push(...heading(`Boot failures by platform (${b.fail})`), ...bootFailureLines(m.bootFailuresByPlatform), '');
    out.push(...heading('Boot failures by defconfig'));
    for (const g of m.bootFailuresByConfig) {
      const platforms = g.items.map((f) => `${f.platform} (${f.lab})`).join(', ');
      out.push(...wrap(`${g.name}: ${g.items.length} failed: ${platforms}`, '  ', '    '));
    }
    out.push('');
  }
  if (m.offline.length) {
    out.push(...heading(`Offline platforms (${m.offline.length})`));
    for (const g of m.offline)
      out.push(...wrap(`${g.name}: ${g.items.map((i) => `${i.config} (${i.lab})`).join(', ')}`, '  ', '    '));
    out.push('');
  }
  if (m.labSpecific.length) {
    out.push(...heading(`Lab-specific failures (${m.labSpecific.length})`));
    for (const c of m.labSpecific)
      out.push(
        ...wrap(`${c.config} on ${c.platform}: ${onlyInLabsText(c.failingLabs, c.passingLabs)}`, '  ', '    '),
        ...labLines(c.results, '    '),
      );
    out.push('');
  }
  if (m.flaky.length) {
    out.push(...heading(`Flaky boots (${m.flaky.length})`));
    for (const f of m.flaky)
      out.push(
        ...wrap(
          `${f.config} on ${f.platform} in ${f.lab}: ${flakyText(f)}; counted ${f.verdict === 'pass' ? 'passed' : 'failed'}; flake rate of the series ${percent(f.flakeRate)}`,
          '  ',
          '    ',
        ),
      );
    out.push('');
  }
  return out;
}

function buildBody(m: ReportModel): string[] {
  const b = m.builds;
  const out = [
    ...wrap(
      `Builds: ${b.total} total, ${b.pass} passed, ${b.fail} failed` +
        `${b.infraError ? `, ${b.infraError} infra-error` : ''}${b.pending ? `, ${b.pending} pending` : ''}` +
        `, ${b.errors} errors, ${b.warnings} warnings`,
    ),
    '',
    ...regressionLines(m.regressions.filter((r) => r.kind === 'build')),
  ];
  if (m.buildFailures.length) {
    out.push(...heading(`Build failures (${m.buildFailures.length})`));
    for (const f of m.buildFailures) {
      out.push(
        ...wrap(
          `${f.config} (${f.arch}, ${f.defconfig}, ${f.toolchain}): ${f.errors} errors, ${f.warnings} warnings`,
          '  ',
          '    ',
        ),
      );
      if (f.message) out.push(...wrap(f.message, '    ', '      '));
      out.push(urlLine(f.pageUrl, '    '));
    }
    out.push('');
  }
  if (m.errorSummary.length) {
    out.push(...heading(`Errors summary (${b.errors})`));
    for (const e of m.errorSummary) out.push(...wrap(e.text, `${String(e.count).padStart(4)}  `, '      '));
    out.push('');
  }
  if (m.warningSummary.length) {
    out.push(...heading(`Warnings summary (${b.warnings})`));
    for (const w of m.warningSummary) out.push(...wrap(w.text, `${String(w.count).padStart(4)}  `, '      '));
    out.push('');
  }
  return out;
}

export function renderText(m: ReportModel, kind: ReportKind): string {
  const lines = [
    ...header(m, kind),
    ...(kind === 'build' ? buildBody(m) : bootBody(m)),
    '---',
    'Sent by Bootfarm, kernel CI.',
  ];
  return `${lines.join('\n')}\n`;
}
