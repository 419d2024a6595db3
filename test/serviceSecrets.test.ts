/**
 * The table of secrets per service kind, as the issue states it: builders
 * and lab workers hold neither the results database nor the admin token;
 * the dashboard alone holds the admin token; only orchestrators send mail.
 */
import { parseConfig } from '../plumbing/loadConfig';
import {
  SECRET_ENV_VARS,
  SERVICE_KINDS,
  SERVICE_SECRETS,
  secretEnvVarsFor,
  secretEnvVarsIn,
  unwantedSecrets,
} from '../domain/serviceSecrets';

const holders = (envVar: string) => SERVICE_KINDS.filter((k) => secretEnvVarsFor(k).includes(envVar));

describe('secrets per service kind', () => {
  it('builders and lab workers hold no database or admin credentials', () => {
    for (const kind of ['builder', 'lab'] as const) {
      expect(secretEnvVarsFor(kind)).not.toContain('DATABASE_URL');
      expect(secretEnvVarsFor(kind)).not.toContain('BOOTFARM_ADMIN_TOKEN');
      expect(secretEnvVarsFor(kind).sort()).toEqual([
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'S3_ACCESS_KEY_ID',
        'S3_SECRET_ACCESS_KEY',
        'TEMPORAL_API_KEY',
        'TEMPORAL_TLS_CLIENT_KEY_PATH',
      ]);
    }
  });

  it('the dashboard alone holds the admin token; the orchestrators alone send mail; the results database is theirs and the migration', () => {
    expect(holders('BOOTFARM_ADMIN_TOKEN')).toEqual(['dashboard']);
    expect(holders('SMTP_URL')).toEqual(['orchestrator']);
    expect(holders('DATABASE_URL')).toEqual(['orchestrator', 'dashboard', 'migrate']);
    expect(secretEnvVarsFor('migrate')).toEqual(['DATABASE_URL']);
    for (const kind of SERVICE_KINDS)
      for (const required of SERVICE_SECRETS[kind].requires) expect(SERVICE_SECRETS[kind].holds).toContain(required);
  });

  it('finds what a host holds in its environment, empty values not counted', () => {
    expect(
      secretEnvVarsIn({ DATABASE_URL: 'postgres://x', SMTP_URL: '', PATH: '/bin', S3_ACCESS_KEY_ID: 'k' }),
    ).toEqual(['DATABASE_URL', 'S3_ACCESS_KEY_ID']);
    expect(SECRET_ENV_VARS).not.toContain('TEMPORAL_ADDRESS');
  });

  it('names the unwanted secrets of a kind, from the environment and the config file', () => {
    const file = parseConfig('database: { url: "postgres://u:p@h/db" }\nemail: { smtpUrl: "smtp://h" }\n');
    expect(unwantedSecrets('builder', { BOOTFARM_ADMIN_TOKEN: 't', S3_ACCESS_KEY_ID: 'k' }, file)).toEqual([
      { credential: 'resultsDatabase', where: ['database.url'] },
      { credential: 'adminToken', where: ['BOOTFARM_ADMIN_TOKEN'] },
      { credential: 'mail', where: ['email.smtpUrl'] },
    ]);
    expect(
      unwantedSecrets('orchestrator', { DATABASE_URL: 'x', SMTP_URL: 'y', S3_SECRET_ACCESS_KEY: 'z' }, file),
    ).toEqual([]);
    expect(unwantedSecrets('dashboard', { DATABASE_URL: 'x', BOOTFARM_ADMIN_TOKEN: 't' })).toEqual([]);
  });
});
