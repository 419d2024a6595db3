/**
 * A real SMTP server for tests (the `smtp-server` package, as the
 * deployment's mail host runs it) on a loopback port, keeping every message
 * it accepts in memory, raw and parsed by `mailparser`.
 */
import { listenAcceptingAll } from '../../deploy/smtpSink';
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
  const server = await listenAcceptingAll('127.0.0.1', port, async (bytes, envelope) => {
    const raw = bytes.toString('utf8');
    received.push({ raw, parsed: await simpleParser(raw), envelopeTo: envelope.to });
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
    close: () => server.close(),
  };
}
