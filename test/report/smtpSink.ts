/**
 * A real SMTP server for tests (the `smtp-server` package) on a loopback
 * port, keeping every message it accepts, raw and parsed by `mailparser`.
 */
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { waitFor } from '../../stack/ports';

export interface ReceivedMail {
  raw: string;
  parsed: ParsedMail;
  envelopeTo: string[];
}

export interface SmtpSink {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** resolves when at least `n` messages have arrived */
  waitForCount(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(port: number): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            received.push({ raw, parsed, envelopeTo: session.envelope.rcptTo.map((r) => r.address) });
            callback();
          })
          .catch(callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    waitForCount: (n, timeoutMs = 30_000) =>
      waitFor(
        `${n} message(s) at the SMTP server`,
        async () => (received.length >= n ? received : undefined),
        timeoutMs,
        50,
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
