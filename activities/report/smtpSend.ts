/**
 * One message over one SMTP connection, telling a definite failure from an
 * ambiguous one. Until the server has answered DATA with 354 and the first
 * byte of the message has left, a failure means the server does not have
 * the message. After that, a dropped connection or a timeout before the
 * server's final reply leaves it unknown whether the server took the message
 * (it may have queued it and then lost the connection): resending could mail
 * everyone twice. Only a reply to the message itself (4xx/5xx after the
 * final dot) is a definite refusal.
 */
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { parseConnectionUrl } from 'nodemailer/lib/shared';

/** The server may or may not have accepted the message: do not send it again on your own. */
export class AmbiguousSmtpDelivery extends Error {
  constructor(override readonly cause: Error) {
    super(
      `the SMTP connection failed after the message data was sent (${cause.message}); the server may have accepted it`,
    );
    this.name = 'AmbiguousSmtpDelivery';
  }
}

export interface SmtpEnvelope {
  from: string | false;
  to: string[];
}

/** A reply from the server to the message data: it did not take the message. */
function refusedMessage(e: SMTPConnection.SMTPError): boolean {
  return e.code === 'EMESSAGE' && typeof e.responseCode === 'number' && e.responseCode >= 400;
}

export function sendOverSmtp(url: string, timeoutMs: number, envelope: SmtpEnvelope, raw: Buffer): Promise<void> {
  const options: SMTPConnection.Options = {
    ...parseConnectionUrl(url),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
  const connection = new SMTPConnection(options);
  // SMTPConnection pipes the message only once DATA was answered with 354; before that it
  // fails synchronously, before any read: the first read marks the point of no return.
  let dataSent = false;
  const message = new Readable({
    read() {
      dataSent = true;
      this.push(raw);
      this.push(null);
    },
  });
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (e?: SMTPConnection.SMTPError | Error | null) => {
      if (settled) return;
      settled = true;
      if (!e) {
        connection.quit();
        resolve();
        return;
      }
      connection.close();
      reject(dataSent && !refusedMessage(e as SMTPConnection.SMTPError) ? new AmbiguousSmtpDelivery(e) : e);
    };
    connection.once('error', finish);
    // a close with no error event and no reply: whatever the send callback says first wins
    connection.once('end', () => setImmediate(() => finish(new Error('the SMTP connection closed unexpectedly'))));
    connection.connect(() => {
      const send = () => connection.send(envelope, message, (e) => finish(e));
      // credentials in the URL (smtps://user:pass@host) are used, or the send fails: never silently unauthenticated
      const auth = options.auth as SMTPConnection.Credentials | undefined;
      if (auth) connection.login(auth, (e) => (e ? finish(e) : send()));
      else send();
    });
  });
}
