/**
 * The artifact store's one-shot setup, for docker-compose.yml and
 * deploy/hosts.ts alike: the S3 server's identities file (an admin key, and
 * the services' key that may read and write the artifact bucket only), and
 * the bucket itself, made with the admin key. Keys come from the
 * environment (DEPLOYMENT_SETTINGS), never from the command line.
 *
 *   node --require tsx/cjs deploy/s3Setup.ts identities FILE   (before the S3 server starts)
 *   node --require tsx/cjs deploy/s3Setup.ts bucket ENDPOINT   (once it answers)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { S3Store } from '../plumbing/store/s3Store';
import { bucketActions, s3IdentitiesConfig } from '../stack/seaweedfs';
import { waitFor } from '../stack/ports';
import { ARTIFACT_BUCKET } from './topology';

/** Creates the artifact bucket (idempotent) with the admin key. */
export async function createBucket(endpoint: string, accessKeyId: string, secretAccessKey: string): Promise<void> {
  const admin = new S3Store({ endpoint, region: 'us-east-1', bucket: ARTIFACT_BUCKET, accessKeyId, secretAccessKey });
  try {
    await admin.init();
  } finally {
    admin.close();
  }
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  if (!/^[A-Za-z0-9+/=_.-]{8,128}$/.test(v)) throw new Error(`${name}: 8 to 128 letters, digits or +/=_.-`);
  return v;
}

async function main() {
  const [mode, target] = process.argv.slice(2);
  if (mode === 'identities' && target) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(
      target,
      s3IdentitiesConfig([
        {
          name: 'admin',
          accessKeyId: required('S3_ADMIN_ACCESS_KEY_ID'),
          secretAccessKey: required('S3_ADMIN_SECRET_ACCESS_KEY'),
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
        {
          name: 'bootfarm-artifacts',
          accessKeyId: required('S3_ACCESS_KEY_ID'),
          secretAccessKey: required('S3_SECRET_ACCESS_KEY'),
          actions: bucketActions(ARTIFACT_BUCKET),
        },
      ]),
      { mode: 0o600 },
    );
    process.stdout.write(`s3-setup: identities written to ${target}\n`);
  } else if (mode === 'bucket' && target) {
    const [key, secret] = [required('S3_ADMIN_ACCESS_KEY_ID'), required('S3_ADMIN_SECRET_ACCESS_KEY')];
    await waitFor(
      `the S3 server at ${target}`,
      () => createBucket(target, key, secret).then(() => true),
      300_000,
      2000,
    );
    process.stdout.write(`s3-setup: bucket ${ARTIFACT_BUCKET} at ${target}\n`);
  } else {
    throw new Error('usage: s3Setup.ts identities FILE | bucket ENDPOINT');
  }
}

if (require.main === module)
  main().catch((e: Error) => {
    process.stderr.write(`s3-setup: ${e.message.split('\n')[0]}\n`);
    process.exit(1);
  });
