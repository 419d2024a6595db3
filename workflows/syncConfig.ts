import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createConfigActivities } from '../activities/pipeline/configRecords';
import type { BootfarmConfig } from '../domain/config';
import { SA } from '../domain/searchAttributes';

const { syncConfig: syncConfigActivity } = proxyActivities<ReturnType<typeof createConfigActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});

/** Records the configured trees, platforms and labs; run by `bootfarm up` and `bootfarm config apply`. */
export async function syncConfig(cfg: Pick<BootfarmConfig, 'trees' | 'platforms' | 'labs'>) {
  upsertSearchAttributes([{ key: SA.kind, value: 'config' }]);
  const result = await syncConfigActivity(cfg);
  return result;
}
