/**
 * The deployment's mail host on this machine: a real SMTP server (the
 * smtp-server package) that accepts every message and keeps it as a file,
 * `<dir>/<time>-<pid>-<n>.eml` (the raw message) beside `<same>.json` (the
 * envelope). A message is acknowledged (250) only once its file is in
 * place, so what the sender counts as delivered is what the directory
 * holds: a test counts each report mail there.
 *
 *   node --require tsx/cjs deploy/smtpSink.ts --host ADDRESS --port PORT --dir DIR
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface SmtpSinkOptions {
  host: string;
  port: number;
  dir: string;
}

export interface StoredMail {
  file: string;
  raw: string;
  envelope: { from: string; to: string[] };
}

let sequence = 0;

function store(dir: string, raw: Buffer, envelope: StoredMail['envelope']): void {
  const name = `${Date.now()}-${process.pid}-${++sequence}`;
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(envelope));
  // the .eml appears whole or not at all: written aside, then renamed into place
  writeFileSync(join(dir, `.${name}.tmp`), raw);
  renameSync(join(dir, `.${name}.tmp`), join(dir, `${name}.eml`));
}

/**
 * An SMTP server that takes every message (no auth, no TLS) and hands it to
 * `keep`; the sender gets its 250 once `keep` has resolved, an error
 * otherwise. Listening on host:port when this resolves.
 */
export async function listenAcceptingAll(
  host: string,
  port: number,
  keep: (raw: Buffer, envelope: StoredMail['envelope']) => Promise<void> | void,
): Promise<{ close(): Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const envelope = { from, to: session.envelope.rcptTo.map((r) => r.address) };
        Promise.resolve()
          .then(() => keep(Buffer.concat(chunks), envelope))
          .then(() => callback(), callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Listens on host:port until closed; every accepted message is a file in `dir`. */
export async function runSmtpSink(opts: SmtpSinkOptions): Promise<{ close(): Promise<void> }> {
  mkdirSync(opts.dir, { recursive: true });
  return listenAcceptingAll(opts.host, opts.port, (raw, envelope) => store(opts.dir, raw, envelope));
}

/** The messages the sink has kept, oldest first. */
export function readMailbox(dir: string): StoredMail[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.eml'));
  } catch {
    return [];
  }
  const key = (n: string) => n.split('-').map(Number);
  names.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  return names.map((file) => ({
    file,
    raw: readFileSync(join(dir, file), 'utf8'),
    envelope: JSON.parse(readFileSync(join(dir, file.replace(/\.eml$/, '.json')), 'utf8')) as StoredMail['envelope'],
  }));
}

function parseArgs(argv: string[]): SmtpSinkOptions {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (!v) throw new Error(`usage: smtpSink.ts --host ADDRESS --port PORT --dir DIR (${flag} is missing)`);
    return v;
  };
  const port = Number(get('--port'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port: not a port number`);
  return { host: get('--host'), port, dir: get('--dir') };
}

if (require.main === module) {
  const opts = (() => {
    try {
      return parseArgs(process.argv.slice(2));
    } catch (e) {
      process.stderr.write(`smtp-sink: ${(e as Error).message}\n`);
      process.exit(2);
    }
  })();
  runSmtpSink(opts).then(
    (sink) => {
      process.stdout.write(`smtp-sink: listening on ${opts.host}:${opts.port}, keeping messages in ${opts.dir}\n`);
      for (const sig of ['SIGTERM', 'SIGINT'] as const)
        process.once(sig, () => void sink.close().then(() => process.exit(0)));
    },
    (e: Error) => {
      process.stderr.write(`smtp-sink: cannot listen on ${opts.host}:${opts.port}: ${e.message}\n`);
      process.exit(1);
    },
  );
}
