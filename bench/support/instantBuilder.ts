/**
 * A builder that builds nothing: it stores a stand-in kernel image and
 * passes, for benches that measure orchestration and sharing, not make.
 * Not a production activity.
 */
import type { BuildRequest, BuildResult } from '../../domain/types';
import type { ArtifactStore } from '../../plumbing/store/types';

export function instantBuildActivities(store: ArtifactStore) {
  return {
    async buildKernel(req: BuildRequest): Promise<BuildResult> {
      const kernel = await store.put(`builds/${req.tree}/${req.sha}/${req.config.name}/bzImage`, 'bench');
      return { status: 'pass', warnings: 0, errors: 0, durationMs: 0, artifacts: { kernel }, errorLines: [] };
    },
  };
}
