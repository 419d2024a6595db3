/**
 * The demo's last lines: what happened, in words — the regression, the
 * culprit and its checks, the mails, and where to look — instead of a
 * workflow's result as JSON.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BisectResult } from '../domain/bisect';
import type { RevisionReport } from '../domain/revisionReport';

export interface MailSeen {
  subject: string;
  to: string;
}

/** Subject and To of each .eml in the outbox (the demo mails go there when no SMTP server is set). */
export function outboxMails(dir: string): MailSeen[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files.sort().map((f) => {
    const head = readFileSync(join(dir, f), 'utf8')
      .split(/\r?\n\r?\n/)[0]
      .replace(/\r?\n[ \t]+/g, ' ');
    const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
    return { subject: decodeWords(header('Subject')), to: header('To') };
  });
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=) as text. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([qb])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

export interface DemoStory {
  regressed: RevisionReport;
  bisection?: { result: BisectResult; config: string; platform: string; lab: string; workflowId: string };
  mails: MailSeen[];
  dashboardUrl: string;
  temporalUiUrl: string;
  outboxDir: string;
}

const short = (sha: string) => sha.slice(0, 12);

export function demoSummary(s: DemoStory): string[] {
  const r = s.regressed;
  const failedBoots = r.boots.filter((b) => b.status === 'fail');
  const failedBuilds = r.builds.filter((b) => b.status === 'fail');
  const lines = [`What happened: the second push (head ${r.describe}) tested ${r.result}.`];
  for (const b of failedBoots) lines.push(`  ${b.config} no longer boots on ${b.platform} (lab ${b.lab}).`);
  for (const b of failedBuilds) lines.push(`  ${b.config} no longer builds.`);
  const bi = s.bisection;
  if (bi) {
    const v = bi.result.verdict;
    lines.push(
      `Bisection #${bi.result.bisectionId} of ${bi.config} on ${bi.platform}@${bi.lab}: ${bi.result.steps.length} commits built and booted, ${bi.result.rounds} round(s).`,
    );
    lines.push(
      v.culprit
        ? `  Culprit: ${short(v.culprit.sha)} "${v.culprit.subject}" (${v.confirmed ? 'confirmed' : 'not confirmed'}).`
        : `  ${v.summary}`,
    );
    for (const c of v.checks) lines.push(`  Check ${c.name}: ${c.outcome}${c.detail ? ` (${c.detail})` : ''}.`);
  }
  if (s.mails.length) {
    lines.push(`Mails (${s.mails.length}, in ${s.outboxDir}):`);
    for (const m of s.mails) lines.push(`  "${m.subject}" to ${m.to}`);
  } else
    lines.push('Mails: none in the outbox yet (the reports go out once every result is in, at most after the delay).');
  lines.push('Where to look:');
  if (bi) lines.push(`  the bisection   ${s.dashboardUrl}/bisections/${bi.result.bisectionId}`);
  lines.push(`  the regressions ${s.dashboardUrl}/regressions`);
  lines.push(`  the revisions   ${s.dashboardUrl}/revisions?tree=${encodeURIComponent(r.tree)}`);
  lines.push(`  the mails       ${s.dashboardUrl}/outbox`);
  if (bi) lines.push(`  the workflow    ${s.temporalUiUrl}/workflows/${encodeURIComponent(bi.workflowId)}`);
  return lines;
}
