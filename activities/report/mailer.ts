/**
 * Sending reports exactly once, over SMTP (nodemailer) or, in the embedded
 * default, into an outbox directory of `.eml` files that the dashboard lists.
 *
 * Every report has a deterministic Message-ID (domain/reports.ts) and a row in
 * `reports` (unique message_id) that is claimed before the hand-over and
 * marked sent after it:
 *
 *   absent|failed --claim--> sending --transport accepted--> sent
 *                               |--transport refused/unreachable--> failed (retried)
 *                               |--connection lost after the data was sent--> unconfirmed
 *                               '--claim older than the lease--> see below
 *
 * - A retry after success (activity or workflow retried) finds `sent` and
 *   sends nothing.
 * - A refused or unreachable SMTP server is a definite non-delivery: the row
 *   goes to `failed` and the activity's retry (with backoff) sends again.
 * - A connection lost, or a timeout, after the message data was sent and
 *   before the server's reply to it is ambiguous (./smtpSend.ts): the server
 *   may have taken the message. The row goes to `unconfirmed`, the outbox
 *   page lists it for an operator, and nothing resends it on its own.
 * - A claim younger than the lease may belong to an attempt still talking to
 *   the server (an activity timeout does not stop the old attempt): the retry
 *   fails with a retryable error and comes back later.
 * - A claim older than the lease means the attempt died between the claim and
 *   the `sent` mark — between the SMTP server's acceptance and our update, or
 *   during the hand-over itself. Nobody can tell which. We choose not to send
 *   again: the promise to maintainers is never to mail a list twice; the
 *   window is short (the message is rendered and composed before the claim,
 *   so it spans the SMTP conversation and one UPDATE); and the row is left
 *   `unconfirmed`, visible to operators, who can resend it by setting it to
 *   `failed`. For the outbox there is no doubt: the `.eml` appears by an
 *   atomic rename, so its presence says whether the dead attempt delivered.
 */
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from 'postgres';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { ReportActivities, RevisionReportRequest, SendResult, SendStatus } from '../../domain/reports';
import { buildReportModel } from './model';
import { reportSubject } from './subject';
import { renderText } from './text';
import { renderHtml } from './html';
import { AmbiguousSmtpDelivery, sendOverSmtp } from './smtpSend';

export interface MailDeps {
  sql: Sql;
  /** an SMTP relay (`smtp://host:port`, `smtps://user:pass@host`); absent: deliver into `outboxDir` */
  smtpUrl?: string;
  /** every report's `.eml` is kept here; with no SMTP relay, this is the delivery */
  outboxDir: string;
  /** the dashboard's public base URL, for links in reports */
  dashboardUrl: string;
  /** where logs are served from, when not `<dashboardUrl>/artifacts` (an S3 bucket URL) */
  artifactBaseUrl?: string;
  /** a claim younger than this may belong to an attempt still sending (default 10 min; above the SMTP timeouts) */
  claimLeaseMs?: number;
  /** SMTP connection, greeting and socket timeout (default 60 s) */
  smtpTimeoutMs?: number;
  /**
   * Called after the transport accepted a message and before it is recorded
   * as sent: the crash window. Tests throw here to simulate a crash.
   */
  onHandedOver?: (messageId: string) => void | Promise<void>;
}

export interface OutgoingMail {
  messageId: string;
  /** reports.kind: build | boot | bisect | follow-up */
  kind: string;
  tree: string;
  branch?: string;
  sha?: string;
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  text: string;
  html?: string;
  /** the message answered, and the thread's earlier ids, oldest first */
  inReplyTo?: string;
  references?: string[];
  /** database time the report's data was read at */
  dataAsOf?: string;
}

export interface Delivery {
  status: Exclude<SendStatus, 'nothing-new'>;
  transport: 'smtp' | 'outbox';
  emlKey: string | null;
}

const DEFAULT_LEASE_MS = 10 * 60_000;
const DEFAULT_SMTP_TIMEOUT_MS = 60_000;

/**
 * The `.eml` file name of a Message-ID (`<a.b@host>` → `a.b@host.eml`): a
 * single path segment the dashboard's outbox lists (starts with a letter or
 * digit, no characters outside [A-Za-z0-9._@+-], at most 200 characters).
 */
export function emlFileName(messageId: string): string {
  const base = messageId
    .replace(/^<|>$/g, '')
    .replace(/[^A-Za-z0-9._@+-]/g, '-')
    .replace(/^[^A-Za-z0-9]/, 'm')
    .slice(0, 190);
  return `${base}.eml`;
}

class ReportInFlightError extends Error {}

function inFlight(messageId: string): ApplicationFailure {
  return ApplicationFailure.retryable(
    `another attempt is sending ${messageId}; trying again later`,
    'BfReportInFlight',
  );
}

/** Write atomically: the file appears whole or not at all, so its presence means delivered. */
function writeAtomically(dir: string, name: string, data: Buffer): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, join(dir, name));
}

export function createMailer(deps: MailDeps) {
  const { sql } = deps;
  const leaseMs = deps.claimLeaseMs ?? DEFAULT_LEASE_MS;
  const timeout = deps.smtpTimeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
  const smtpUrl = deps.smtpUrl;

  type Row = { status: string; expired: boolean; eml_key: string | null; transport: string | null };
  const read = async (messageId: string) =>
    (
      await sql<
        Row[]
      >`select status, eml_key, transport, attempt_at < now() - ${leaseMs} * interval '1 millisecond' as expired
                      from reports where message_id = ${messageId}`
    )[0];

  /** Claim the report for this attempt; false when another attempt holds a live claim. */
  async function claim(mail: OutgoingMail, transport: string): Promise<boolean> {
    const rows = await sql`
      insert into reports (message_id, kind, tree, branch, sha, subject, recipients, in_reply_to, status, attempts, attempt_at, transport, data_as_of)
      values (${mail.messageId}, ${mail.kind}, ${mail.tree}, ${mail.branch ?? null}, ${mail.sha ?? null}, ${mail.subject},
              ${sql.json([...mail.to, ...mail.cc])}, ${mail.inReplyTo ?? null}, 'sending', 1, now(), ${transport}, ${mail.dataAsOf ?? null})
      on conflict (message_id) do update
        set status = 'sending', attempts = reports.attempts + 1, attempt_at = now(), last_error = null,
            subject = excluded.subject, recipients = excluded.recipients, transport = excluded.transport, data_as_of = excluded.data_as_of
        where reports.status = 'failed'
           or (reports.status = 'sending' and reports.transport = 'outbox' and reports.attempt_at < now() - ${leaseMs} * interval '1 millisecond')
      returning id`;
    return rows.length === 1;
  }

  async function markSent(messageId: string, emlKey: string | null): Promise<void> {
    await sql`update reports set status = 'sent', sent_at = now(), eml_key = ${emlKey} where message_id = ${messageId}`;
  }

  /** The state a row is in before this attempt, and what that means for it (null: go ahead and send). */
  async function settleEarlierAttempt(messageId: string): Promise<Delivery | null> {
    const row = await read(messageId);
    if (!row || row.status === 'failed') return null;
    const transport = row.transport === 'smtp' ? 'smtp' : 'outbox';
    if (row.status === 'sent') return { status: 'already-sent', transport, emlKey: row.eml_key };
    if (row.status === 'unconfirmed') return { status: 'unconfirmed', transport, emlKey: row.eml_key };
    if (!row.expired) throw new ReportInFlightError();
    if (transport === 'outbox') {
      const name = emlFileName(messageId);
      if (!existsSync(join(deps.outboxDir, name))) return null; // died before the rename: reclaimed below
      await markSent(messageId, name);
      return { status: 'already-sent', transport, emlKey: name };
    }
    await sql`update reports set status = 'unconfirmed',
                last_error = 'an attempt died while handing the message to the SMTP server; not resent'
              where message_id = ${messageId} and status = 'sending'`;
    return { status: 'unconfirmed', transport, emlKey: row.eml_key };
  }

  async function settle(messageId: string): Promise<Delivery | null> {
    try {
      return await settleEarlierAttempt(messageId);
    } catch (e) {
      throw e instanceof ReportInFlightError ? inFlight(messageId) : e;
    }
  }

  /** The server may have the message: keep a copy for the operator, record why, and send nothing more. */
  async function unconfirmed(messageId: string, name: string, raw: Buffer, why: string): Promise<Delivery> {
    let emlKey: string | null = name;
    try {
      writeAtomically(deps.outboxDir, name, raw);
    } catch {
      emlKey = null;
    }
    await sql`update reports set status = 'unconfirmed', eml_key = ${emlKey},
                last_error = ${`${why}; not resent: an operator decides (set the report to failed to send it again)`}
              where message_id = ${messageId}`;
    return { status: 'unconfirmed', transport: 'smtp', emlKey };
  }

  /** Deliver one message exactly once per Message-ID (see the module comment for the crash window). */
  async function deliverOnce(mail: OutgoingMail): Promise<Delivery> {
    const earlier = await settle(mail.messageId);
    if (earlier) return earlier;
    const recipients = [...mail.to, ...mail.cc];
    // Without recipients there is nobody to mail: the report still lands in the outbox for the dashboard.
    const transport = smtpUrl && recipients.length ? 'smtp' : 'outbox';
    const message = new MailComposer({
      from: mail.from,
      to: mail.to.length ? mail.to : undefined,
      cc: mail.cc.length ? mail.cc : undefined,
      subject: mail.subject,
      messageId: mail.messageId,
      inReplyTo: mail.inReplyTo,
      references: mail.references,
      text: mail.text,
      html: mail.html,
      headers: { 'X-Bootfarm-Tree': mail.tree, 'X-Bootfarm-Kind': mail.kind },
    }).compile();
    const raw = await message.build();
    const name = emlFileName(mail.messageId);

    if (!(await claim(mail, transport))) {
      // Another attempt claimed it since we looked: its outcome is ours.
      const other = await settle(mail.messageId);
      if (other) return other;
      throw inFlight(mail.messageId);
    }

    if (transport === 'outbox') {
      writeAtomically(deps.outboxDir, name, raw);
    } else {
      try {
        await sendOverSmtp(smtpUrl!, timeout, message.getEnvelope(), raw);
      } catch (e) {
        if (e instanceof AmbiguousSmtpDelivery) return unconfirmed(mail.messageId, name, raw, e.message);
        await sql`update reports set status = 'failed', last_error = ${(e as Error).message} where message_id = ${mail.messageId}`;
        throw e;
      }
    }
    await deps.onHandedOver?.(mail.messageId);
    let emlKey: string | null = name;
    if (transport === 'smtp') {
      // The archive copy is for the dashboard; failing to write it must not turn a delivered mail into a resend.
      try {
        writeAtomically(deps.outboxDir, name, raw);
      } catch {
        emlKey = null;
      }
    }
    await markSent(mail.messageId, emlKey);
    return { status: 'sent', transport, emlKey };
  }

  return { deliverOnce };
}

/** The report activity: model from the database, text and HTML from it, delivered once. */
export function createMailActivities(deps: MailDeps): ReportActivities {
  const { sql } = deps;
  const mailer = createMailer(deps);
  return {
    async sendRevisionReport(req: RevisionReportRequest): Promise<SendResult> {
      const thread = req.thread ?? [];
      let lateSince: Date | undefined;
      if (thread.length) {
        const [prev] = await sql<
          { data_as_of: Date | null }[]
        >`select data_as_of from reports where message_id = ${thread[thread.length - 1]}`;
        lateSince = prev?.data_as_of ?? undefined;
      }
      const [done] = await sql<
        { subject: string }[]
      >`select subject from reports where message_id = ${req.messageId} and status = 'sent'`;
      if (done) return { messageId: req.messageId, status: 'already-sent', subject: done.subject };

      const model = await buildReportModel(sql, {
        ...req,
        dashboardUrl: deps.dashboardUrl,
        artifactBaseUrl: deps.artifactBaseUrl,
        lateSince,
      });
      const fresh = reportSubject(model, req.kind);
      if (model.late && (req.kind === 'build' ? model.late.builds : model.late.boots).length === 0) {
        return { messageId: req.messageId, status: 'nothing-new', subject: fresh };
      }
      const subject = thread.length ? `Re: ${fresh}` : fresh;
      const { from, to, cc, textOnly } = req.recipients;
      const delivery = await mailer.deliverOnce({
        messageId: req.messageId,
        kind: thread.length ? 'follow-up' : req.kind,
        tree: req.tree,
        branch: req.branch,
        sha: req.sha,
        subject,
        from,
        to,
        cc,
        text: renderText(model, req.kind),
        html: textOnly ? undefined : await renderHtml(model, req.kind),
        inReplyTo: thread.length ? thread[thread.length - 1] : undefined,
        references: thread.length ? thread : undefined,
        dataAsOf: model.asOf,
      });
      return { messageId: req.messageId, status: delivery.status, subject };
    },
  };
}
