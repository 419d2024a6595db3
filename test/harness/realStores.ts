import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { createStore, type ArtifactStore } from '../../plumbing/store';
import { startSeaweedS3, type SeaweedS3 } from '../../stack/seaweedfs';
import { testDir, uniqueId } from './services';

export interface RealStores {
  /** [kind, make]: a fresh directory store, a fresh bucket on the file's SeaweedFS */
  stores: [string, () => Promise<ArtifactStore>][];
  /** the SeaweedFS S3 server (from beforeAll on) */
  seaweed(): SeaweedS3;
  /** the file's scratch directory (from beforeAll on) */
  scratch(): string;
}

/**
 * The two real artifact stores a test file runs against: a directory, and
 * S3 on a SeaweedFS started for the file in its beforeAll and stopped in its
 * afterAll. Call at the top level of the file, before its own hooks.
 */
export function realStores(prefix: string): RealStores {
  let seaweed: SeaweedS3 | undefined;
  let scratch: string | undefined;
  beforeAll(async () => {
    scratch = mkdtempSync(join(testDir(), prefix));
    seaweed = await startSeaweedS3({ dataDir: join(scratch, 'seaweedfs') });
  }, 90_000);
  afterAll(async () => {
    await seaweed?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('realStores: used before its beforeAll ran');
    return value;
  };
  return {
    stores: [
      ['dir', () => createStore({ kind: 'dir', path: 'artifacts' }, mkdtempSync(join(started(scratch), 'dir-')))],
      [
        's3',
        () => {
          const s3 = started(seaweed);
          return createStore({
            kind: 's3',
            endpoint: s3.endpoint,
            bucket: uniqueId('bf-').toLowerCase(),
            region: s3.region,
            accessKeyId: s3.accessKeyId,
            secretAccessKey: s3.secretAccessKey,
          });
        },
      ],
    ],
    seaweed: () => started(seaweed),
    scratch: () => started(scratch),
  };
}
