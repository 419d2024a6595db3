import type { Sql } from 'postgres';
import { markup, path, type SafeHtml } from '../html';
import { listOutbox, readOutboxMessage } from '../outbox';
import { unconfirmedReports } from '../data/reports';
import { layout, time } from './layout';

/** Mails the SMTP server may or may not have taken: listed first, for an operator to decide. */
async function unconfirmedSection(sql: Sql): Promise<SafeHtml | string> {
  const rows = await unconfirmedReports(sql);
  if (!rows.length) return '';
  return markup`<h2>Unconfirmed: an operator decides</h2>
    <p class="small">The connection to the SMTP server was lost after these messages were sent and before it
      answered: it may have delivered them. Bootfarm does not send them again on its own; set a report's status to
      <code>failed</code> to have its next attempt send it again.</p>
    <table class="outbox unconfirmed">
      <thead>
        <tr>
          <th>Attempted</th>
          <th>Subject</th>
          <th>To</th>
          <th>What happened</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            markup`<tr>
              <td>${time(r.attemptAt)}</td>
              <td>${r.emlKey ? markup`<a href="${path('outbox', r.emlKey)}">${r.subject}</a>` : r.subject}
                <div class="small mono">${r.messageId}</div></td>
              <td class="small">${r.recipients.join(', ')}</td>
              <td class="small">${r.lastError ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

export async function outboxPage(dir: string | undefined, sql: Sql): Promise<SafeHtml> {
  const unconfirmed = await unconfirmedSection(sql);
  if (!dir)
    return layout(
      'Outbox',
      markup`<h1>Outbox</h1>
        ${unconfirmed}
        <p class="muted">Mail goes to an SMTP server; there is no local outbox.</p>`,
    );
  const messages = await listOutbox(dir);
  return layout(
    'Outbox',
    markup`<h1>Outbox</h1>
      ${unconfirmed}
      <p class="muted small">Messages delivered to the embedded outbox, newest first.</p>
      ${
        messages.length
          ? markup`<table class="outbox">
            <thead>
              <tr>
                <th>Date</th>
                <th>Subject</th>
                <th>To</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              ${messages.map(
                (m) =>
                  markup`<tr>
                    <td>${time(m.date ?? m.mtime)}</td>
                    <td><a href="${path('outbox', m.name)}">${m.subject}</a></td>
                    <td class="small">${m.to}</td>
                    <td class="small">${m.from}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
          : markup`<p class="muted">No messages yet.</p>`
      }`,
  );
}

export async function outboxMessagePage(dir: string | undefined, name: string): Promise<SafeHtml> {
  const m = await readOutboxMessage(dir ?? '/nonexistent', name);
  return layout(
    m.subject,
    markup`<h1>${m.subject}</h1>
      <dl class="kv">
        <dt>From</dt>
        <dd>${m.from}</dd>
        <dt>To</dt>
        <dd>${m.to}</dd>
        ${
          m.cc
            ? markup`<dt>Cc</dt>
              <dd>${m.cc}</dd>`
            : ''
        }
        <dt>Date</dt>
        <dd>${time(m.date)}</dd>
        <dt>Message-ID</dt>
        <dd class="mono">${m.messageId}</dd>
        ${
          m.inReplyTo
            ? markup`<dt>In-Reply-To</dt>
              <dd class="mono">${m.inReplyTo}</dd>`
            : ''
        }
        <dt>Parts</dt>
        <dd>text/plain${m.hasHtml ? ' + text/html alternative' : ''}</dd>
      </dl>
      <pre class="mail">${m.text}</pre>
      <p class="small"><a href="/outbox">← outbox</a></p>`,
  );
}

/** A mail the retention policy removed from the outbox: said so, not "not found". */
export function expiredMailPage(name: string, expiredAt: string): SafeHtml {
  return layout(
    'Expired mail',
    markup`<h1>Expired mail</h1>
      <p>${name} expired: the retention policy removed it from the outbox on ${time(expiredAt)}.</p>
      <p class="small"><a href="/outbox">← outbox</a></p>`,
  );
}
