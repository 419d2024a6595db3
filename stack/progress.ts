/** Start-up progress on stderr: one line per step, with its time. */
export function progress(prefix = 'bootfarm') {
  const t0 = Date.now();
  return {
    async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
      const started = Date.now();
      process.stderr.write(`${prefix}: ${what}…\n`);
      const out = await fn();
      process.stderr.write(`${prefix}: ${what}: done in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
      return out;
    },
    info(line: string) {
      process.stderr.write(`${prefix}: ${line}\n`);
    },
    elapsed: () => (Date.now() - t0) / 1000,
  };
}
