/**
 * Commands load their heavy modules (Temporal worker, AWS SDK, dashboard)
 * only when they run, so `bootfarm --help` and `config check` start fast.
 */
export function lazy<T>(load: () => T): () => T {
  let mod: T | undefined;
  return () => (mod ??= load());
}
