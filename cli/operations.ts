import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { BootfarmConfig } from '../common/config';
import { ensureMirror, resolveCommit } from '../activities/git';
import { forcedRunName, startRevision, type StartRevisionResult } from '../activities/monitor';
import { pipelineSpecFor } from '../workflows/pipelineSpec';
import { UserError } from './fail';

/**
 * Trigger one revision by hand (`bootfarm run`, the dashboard's operator
 * API). The commit is resolved to a full sha first, because the workflow id
 * — the trigger's idempotency key — is built from it.
 */
export async function triggerRevision(
  client: Client,
  config: BootfarmConfig,
  req: { tree: string; branch: string; commit?: string; force?: boolean },
): Promise<StartRevisionResult & { sha: string }> {
  const spec = pipelineSpecFor(config, req.tree, req.branch);
  const tree = config.trees.find((t) => t.name === req.tree);
  if (tree && !tree.branches.some((b) => b.name === req.branch))
    throw new UserError(`tree ${req.tree} has no monitored branch ${JSON.stringify(req.branch)} (branches: ${tree.branches.map((b) => b.name).join(', ')})`);
  const mirror = await ensureMirror(join(config.dataDir, 'mirrors'), spec.tree, spec.url);
  const ref = req.commit ?? `refs/heads/${req.branch}`;
  const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : await resolveCommit(mirror, ref);
  if (!sha) throw new UserError(`${req.tree}: no commit ${JSON.stringify(req.commit ?? req.branch)} in ${spec.url}`);
  const started = await startRevision(client, { ...spec, sha, ...(req.force ? { run: forcedRunName() } : {}) });
  return { ...started, sha };
}
