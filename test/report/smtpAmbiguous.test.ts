/**
 * An SMTP server that drops the connection after it received the message
 * data may have delivered it: the report is recorded `unconfirmed`, listed
 * for an operator on the outbox page, and never sent again on its own. A
 * failure before the data, or a reply refusing the data, is definite: the
 * report is `failed` and the next attempt sends it.
 */
import { mkdtempSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { createMailer, type OutgoingMail } from '../../activities/report/mailer';
import { DirStore } from '../../plumbing/store/dirStore';
import { createDashboard } from '../../dashboard/server';
import { freePort } from '../../stack/ports';
import { freshDatabase, testDir, uniqueId, type TestDatabase } from '../harness/services';

type Fault = 'drop-after-data' | 'drop-before-data' | 'refuse-data' | 'none';

/** A real SMTP server (smtp-server) that misbehaves as told; `received` holds every message it got whole. */
async function faultySmtp() {
  let fault: Fault = 'none';
  const sockets = new Map<number, Socket>();
  const received: string[] = [];
  const drop = (session: SMTPServerSession) => sockets.get(session.remotePort)?.destroy();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, session, callback) {
      if (fault === 'drop-before-data') drop(session);
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push(Buffer.concat(chunks).toString('utf8'));
        // the whole message is here, and then the reply never leaves
        if (fault === 'drop-after-data') drop(session);
        else if (fault === 'refuse-data') callback(Object.assign(new Error('mailbox full'), { responseCode: 452 }));
        else callback();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => sockets.set(socket.remotePort!, socket));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    setFault: (f: Fault) => (fault = f),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('an SMTP error after the message data was sent is ambiguous: an operator decides', () => {
  let db: TestDatabase;
  let smtp: Awaited<ReturnType<typeof faultySmtp>>;
  const outboxDir = () => mkdtempSync(join(testDir(), 'smtp-ambiguous-'));

  beforeAll(async () => {
    db = await freshDatabase();
    smtp = await faultySmtp();
  });
  afterAll(async () => {
    await smtp?.close();
    await db?.drop();
  });

  const mail = (subject: string): OutgoingMail => ({
    messageId: `<${uniqueId('m')}@bootfarm.test>`,
    kind: 'boot',
    tree: 'mainline',
    subject,
    from: 'bot@bootfarm.test',
    to: ['linux-kernel@lists.test'],
    cc: [],
    text: 'boot report\n',
  });
  const row = async (messageId: string) =>
    (await db.sql`select status, attempts, last_error from reports where message_id = ${messageId}`)[0];

  it('a connection dropped after DATA: unconfirmed, not resent by the retry, listed on the outbox page', async () => {
    smtp.setFault('drop-after-data');
    const dir = outboxDir();
    const mailer = createMailer({ sql: db.sql, smtpUrl: smtp.url, outboxDir: dir, dashboardUrl: 'http://x' });
    const m = mail('mainline boot: 1 regression');
    const before = smtp.received.length;

    expect(await mailer.deliverOnce(m)).toMatchObject({ status: 'unconfirmed', transport: 'smtp' });
    smtp.setFault('none');
    // the activity's retry, and any later attempt, send nothing
    expect(await mailer.deliverOnce(m)).toMatchObject({ status: 'unconfirmed' });
    expect(await mailer.deliverOnce(m)).toMatchObject({ status: 'unconfirmed' });
    expect(smtp.received.length - before).toBe(1);
    const r = await row(m.messageId);
    expect(r.status).toBe('unconfirmed');
    expect(r.attempts).toBe(1);
    expect(r.last_error).toMatch(/after the message data was sent.*may have accepted it.*not resent/);

    const dash = createDashboard({
      sql: db.sql,
      store: new DirStore(join(dir, 'artifacts')),
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
      outboxDir: dir,
    });
    const { url } = await dash.listen(0);
    try {
      const page = await (await fetch(`${url}/outbox`)).text();
      const section = page.slice(page.indexOf('Unconfirmed: an operator decides'));
      expect(section).toContain('mainline boot: 1 regression');
      expect(section).toContain('linux-kernel@lists.test');
      expect(section).toContain('not resent: an operator decides');
    } finally {
      await dash.close();
    }

    // the operator's decision: set it to failed, and the next attempt sends it
    await db.sql`update reports set status = 'failed' where message_id = ${m.messageId}`;
    expect(await mailer.deliverOnce(m)).toMatchObject({ status: 'sent' });
    expect(smtp.received.length - before).toBe(2);
  });

  it('a connection dropped before DATA is a definite failure: failed, and the retry delivers it once', async () => {
    smtp.setFault('drop-before-data');
    const mailer = createMailer({ sql: db.sql, smtpUrl: smtp.url, outboxDir: outboxDir(), dashboardUrl: 'http://x' });
    const m = mail('before data');
    const before = smtp.received.length;
    await expect(mailer.deliverOnce(m)).rejects.toThrow(/Connection closed unexpectedly/);
    expect((await row(m.messageId)).status).toBe('failed');
    smtp.setFault('none');
    expect(await mailer.deliverOnce(m)).toMatchObject({ status: 'sent' });
    expect(smtp.received.length - before).toBe(1);
  });

  it('a reply refusing the data (452) is a definite failure: failed, and the retry delivers it', async () => {
    smtp.setFault('refuse-data');
    const mailer = createMailer({ sql: db.sql, smtpUrl: smtp.url, outboxDir: outboxDir(), dashboardUrl: 'http://x' });
    const m = mail('refused');
    await expect(mailer.deliverOnce(m)).rejects.toThrow(/452/);
    expect((await row(m.messageId)).status).toBe('failed');
    smtp.setFault('none');
    expect(await mailer.deliverOnce(m)).toMatchObject({ status: 'sent' });
  });
});
