/**
 * A real Prometheus (Debian's `prometheus`) for a test: on a free loopback
 * port, its data in a directory of the test, scraping the given targets
 * every second and evaluating the committed alert rules every second; it
 * dies with the test process (setpriv --pdeathsig through startService).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startService, type Service } from '../../../stack/childProcess';
import { freePort, waitFor } from '../../../stack/ports';

export const RULES = join(__dirname, '..', '..', '..', 'deploy', 'prometheus', 'alerts.yml');

export interface Prometheus {
  url: string;
  service: Service;
  /** instant query: the vector's samples */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** alerts as the rule evaluation sees them now */
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
  series(match: string): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(dir: string, jobs: Record<string, string[]>): Promise<Prometheus> {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
      rule_files: [RULES],
      scrape_configs: Object.entries(jobs).map(([job, targets]) => ({
        job_name: job,
        static_configs: [{ targets }],
      })),
    }),
  );
  const service = startService(
    'prometheus',
    '/usr/bin/prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    join(dir, 'prometheus.log'),
  );
  const url = `http://127.0.0.1:${port}`;
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };
  await waitFor('Prometheus', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 30_000);
  return {
    url,
    service,
    query: async (expr) =>
      (
        await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result,
    alerts: async () =>
      (await api<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')).alerts,
    series: (match) => api<Record<string, string>[]>(`/api/v1/series?match[]=${encodeURIComponent(match)}`),
    stop: () => service.stop(),
  };
}
