/**
 * How a service process (`bootfarm worker …`, `bootfarm dashboard`) logs:
 * one line per event on stdout, time first, then the service, then what
 * happened. A log collector (journald, docker) keeps them; nothing is
 * written to files, and no stack trace is printed for an expected
 * condition (a dependency down, a drain).
 */
export type ServiceLog = (line: string) => void;

export function serviceLog(service: string, out: NodeJS.WritableStream = process.stdout): ServiceLog {
  return (line: string) => {
    // one event, one line, whatever the message carries
    out.write(`${new Date().toISOString()} ${service}: ${line.replace(/\s*\n\s*/g, ' ')}\n`);
  };
}

/** The first line of an error's message: what the operator needs, not the stack. */
export function reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return (message.split('\n')[0] || (e as Error)?.name || 'unknown error').trim();
}
