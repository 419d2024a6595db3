import { z } from 'zod';
import type { Sql } from 'postgres';
import { branchParam, cursorParam, limitParam, nameParam } from '../validate';
import { keysetPage, type Page } from './page';
import { fromRow, type Report } from './rows';

export const reportFilters = z.strictObject({
  tree: nameParam.optional(),
  branch: branchParam.optional(),
  kind: z.enum(['build', 'boot', 'bisect', 'follow-up']).optional(),
  limit: limitParam.optional(),
  cursor: cursorParam.optional(),
});
export type ReportFilters = z.output<typeof reportFilters>;

export function listReports(sql: Sql, f: ReportFilters): Promise<Page<Report>> {
  return keysetPage(sql, {
    table: 'reports',
    time: 'created_at',
    where: [
      ...(f.tree ? [sql`tree = ${f.tree}`] : []),
      ...(f.branch ? [sql`branch = ${f.branch}`] : []),
      ...(f.kind ? [sql`kind = ${f.kind}`] : []),
    ],
    limit: f.limit ?? 50,
    cursor: f.cursor,
    map: fromRow<Report>,
  });
}

export interface UnconfirmedReport {
  messageId: string;
  kind: string;
  tree: string;
  subject: string;
  recipients: string[];
  attemptAt: string | null;
  lastError: string | null;
  emlKey: string | null;
}

/** Mails whose delivery nobody can vouch for (the SMTP server may have them): an operator decides. */
export async function unconfirmedReports(sql: Sql, limit = 100): Promise<UnconfirmedReport[]> {
  const rows = await sql<
    {
      message_id: string;
      kind: string;
      tree: string;
      subject: string;
      recipients: unknown;
      attempt_at: Date | null;
      last_error: string | null;
      eml_key: string | null;
    }[]
  >`select message_id, kind, tree, subject, recipients, attempt_at, last_error, eml_key
      from reports where status = 'unconfirmed' order by attempt_at desc nulls last, id desc limit ${limit}`;
  return rows.map((r) => ({
    messageId: r.message_id,
    kind: r.kind,
    tree: r.tree,
    subject: r.subject,
    recipients: Array.isArray(r.recipients) ? r.recipients.map(String) : [],
    attemptAt: r.attempt_at?.toISOString() ?? null,
    lastError: r.last_error,
    emlKey: r.eml_key,
  }));
}
