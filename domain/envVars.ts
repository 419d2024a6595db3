/**
 * Environment variables that override connection settings (deployment).
 * The compose test checks that every worker service sets each of them.
 */
export const CONNECTION_ENV_VARS = [
  'BOOTFARM_CONFIG',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'DATABASE_URL',
  'S3_ENDPOINT',
  'S3_BUCKET',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'SMTP_URL',
  'DASHBOARD_URL',
  'BOOTFARM_ADMIN_TOKEN',
] as const;
