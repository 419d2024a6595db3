/**
 * The progress block of a running revision or bisection: the same figures
 * as `bootfarm status` and the Temporal Web UI (domain/progress.ts). A page
 * showing it reloads itself every few seconds while the run goes on (a meta
 * refresh: the dashboard serves no script), and stops once it has ended.
 */
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import { markup, type SafeHtml } from '../html';
import { bisectionProgressFor, revisionProgressFor } from '../data/progress';
import { formatDuration, type RevisionProgress } from '../../domain/progress';

export const LIVE_REFRESH_SECONDS = 5;

function bar(done: number, total: number): SafeHtml {
  return markup`<progress max="${String(Math.max(total, 1))}" value="${String(done)}">${done}/${total}</progress>`;
}

function revisionTable(p: RevisionProgress): SafeHtml {
  return markup`<table class="progress-figures">
    <thead><tr><th></th><th>done</th><th>of</th><th></th></tr></thead>
    <tbody>
      <tr data-row="builds"><th>builds</th><td>${p.builds.done}</td><td>${p.builds.total}</td><td>${bar(p.builds.done, p.builds.total)}</td></tr>
      <tr data-row="boots"><th>boots</th><td>${p.boots.done}</td><td>${p.boots.total}</td><td>${bar(p.boots.done, p.boots.total)}</td></tr>
      ${Object.entries(p.boots.labs).map(
        ([lab, t]) =>
          markup`<tr data-row="lab" data-lab="${lab}"><th>· on ${lab}</th><td>${t.done}</td><td>${t.total}</td><td>${bar(t.done, t.total)}</td></tr>`,
      )}
    </tbody>
  </table>`;
}

const footnote = markup`<p class="small muted">
  This page reloads every ${LIVE_REFRESH_SECONDS} s while the run goes on. The same figures:
  <code>bootfarm status</code>, and the workflow's current details in the Temporal Web UI.
</p>`;

export async function revisionProgressBlock(
  sql: Sql,
  client: Client | undefined,
  rev: { tree: string; sha: string; workflowId: string | null },
): Promise<SafeHtml> {
  let text: string;
  let figures: SafeHtml | string = '';
  if (!client || !rev.workflowId) text = 'progress unavailable: this dashboard has no Temporal connection';
  else {
    try {
      const { memo } = await client.workflow.getHandle(rev.workflowId).describe();
      const r = await revisionProgressFor(sql, rev, memo);
      text = r.text;
      if (r.progress) figures = revisionTable(r.progress);
    } catch (e) {
      text = `progress unavailable: ${(e as Error).message}`;
    }
  }
  return markup`<section class="live-progress" data-kind="revision">
    <h2>Progress</h2>
    <p class="progress-text"><strong>${text}</strong></p>
    ${figures}${footnote}
  </section>`;
}

export async function bisectionProgressBlock(client: Client | undefined, workflowId: string): Promise<SafeHtml> {
  const r = client
    ? await bisectionProgressFor(client, workflowId)
    : { text: 'progress unavailable: this dashboard has no Temporal connection', progress: null, etaSeconds: null };
  const p = r.progress;
  return markup`<section class="live-progress" data-kind="bisection">
    <h2>Progress</h2>
    <p class="progress-text"><strong>${r.text}</strong></p>
    ${
      p
        ? markup`<dl class="kv">
          <dt>Phase</dt><dd data-field="phase">${p.phase}</dd>
          <dt>Round</dt><dd data-field="round">${p.round}</dd>
          <dt>Commits left</dt><dd data-field="remaining">${p.remaining ?? '–'}</dd>
          <dt>Commits tested</dt><dd data-field="tested">${p.tested}</dd>
          <dt>Boots</dt><dd data-field="boots">${p.boots}</dd>
          <dt>Time left</dt><dd>${r.etaSeconds === null ? 'unknown' : `about ${formatDuration(r.etaSeconds)}`}</dd>
        </dl>`
        : ''
    }${footnote}
  </section>`;
}
