import { SECRET_ENV_VARS } from './serviceSecrets';

/**
 * Environment variables that override connection settings (deployment).
 * Which of them are secrets, and which service kinds may hold each, is
 * domain/serviceSecrets.ts.
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

/**
 * Settings for a Temporal cluster that needs them (TLS, mTLS, Temporal
 * Cloud's API key), named as Temporal's own client environment
 * configuration names them, and the Web UI the dashboard links to.
 */
export const TEMPORAL_ENV_VARS = [
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
  'TEMPORAL_UI_URL',
] as const;

/** Connection variables that every service of a deployment sets alike: none of them is a secret. */
export const SHARED_CONNECTION_ENV_VARS = CONNECTION_ENV_VARS.filter((v) => !SECRET_ENV_VARS.includes(v));
