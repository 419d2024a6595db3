import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const services = ((globalThis as Record<string, unknown>).__bootfarmServices ?? []) as { stop(): Promise<void> }[];
  await Promise.all(services.map((s) => s.stop()));
  if (process.env.BF_TEST_DIR && !process.env.BF_KEEP_TEST_DIR)
    rmSync(process.env.BF_TEST_DIR, { recursive: true, force: true });
}
