import { readFileSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { parseDocument, isNode, LineCounter } from 'yaml';
import type { z } from 'zod';
import { configSchema, weakAdminToken, type BootfarmConfig } from '../domain/config';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function describePath(path: PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(top level)'
  );
}

/** Parse and validate YAML text; every problem names file, line, path and expectation. */
export function parseConfig(text: string, file = 'bootfarm.yaml'): BootfarmConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const { line, col } = lineCounter.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${line}:${col}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue: z.core.$ZodIssue) => {
    let node: unknown = doc.getIn(issue.path as (string | number)[], true);
    for (let n = issue.path.length - 1; !isNode(node) && n >= 0; n--)
      node = doc.getIn(issue.path.slice(0, n) as (string | number)[], true);
    const range = isNode(node) ? node.range : undefined;
    const where = range ? `${file}:${lineCounter.linePos(range[0]).line}` : file;
    return `${where}: ${describePath(issue.path)}: ${issue.message}`;
  });
  throw new ConfigError(lines.join('\n'));
}

/** true/false as Temporal's own environment configuration spells them (TEMPORAL_TLS). */
function envBoolean(name: string, value: string): boolean {
  if (/^(true|1)$/i.test(value)) return true;
  if (/^(false|0)$/i.test(value)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(value)}: expected true or false`);
}

/** Connection settings come from the environment when set (deployment). */
export function applyEnvOverrides(cfg: BootfarmConfig, env: NodeJS.ProcessEnv = process.env): BootfarmConfig {
  const out = structuredClone(cfg);
  if (env.TEMPORAL_ADDRESS) out.temporal.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) out.temporal.namespace = env.TEMPORAL_NAMESPACE;
  if (env.DATABASE_URL) out.database.url = env.DATABASE_URL;
  if (env.SMTP_URL) out.email.smtpUrl = env.SMTP_URL;
  if (env.DASHBOARD_URL) out.dashboard.publicUrl = env.DASHBOARD_URL;
  if (env.BOOTFARM_ADMIN_TOKEN) out.dashboard.adminToken = env.BOOTFARM_ADMIN_TOKEN;
  if (env.TEMPORAL_UI_URL) out.temporal.uiUrl = env.TEMPORAL_UI_URL;
  if (env.TEMPORAL_API_KEY) out.temporal.apiKey = env.TEMPORAL_API_KEY;
  const tls = { ...out.temporal.tls };
  if (env.TEMPORAL_TLS) tls.enabled = envBoolean('TEMPORAL_TLS', env.TEMPORAL_TLS);
  if (env.TEMPORAL_TLS_CLIENT_CERT_PATH) tls.clientCertPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  if (env.TEMPORAL_TLS_CLIENT_KEY_PATH) tls.clientKeyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (env.TEMPORAL_TLS_SERVER_CA_CERT_PATH) tls.serverCaCertPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  if (env.TEMPORAL_TLS_SERVER_NAME) tls.serverName = env.TEMPORAL_TLS_SERVER_NAME;
  if (Object.keys(tls).length) out.temporal.tls = tls;
  if (env.S3_BUCKET) {
    out.artifacts = {
      kind: 's3',
      bucket: env.S3_BUCKET,
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION ?? 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY,
    };
  }
  return out;
}

/** Relative paths in the config are relative to the config file's folder. */
function resolvePaths(cfg: BootfarmConfig, base: string): BootfarmConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  cfg.dataDir = abs(cfg.dataDir);
  if (cfg.artifacts.kind === 'dir') cfg.artifacts.path = abs(cfg.artifacts.path);
  cfg.email.outbox = abs(cfg.email.outbox);
  cfg.builder.workDir = abs(cfg.builder.workDir);
  const tls = cfg.temporal.tls;
  if (tls?.clientCertPath) tls.clientCertPath = abs(tls.clientCertPath);
  if (tls?.clientKeyPath) tls.clientKeyPath = abs(tls.clientKeyPath);
  if (tls?.serverCaCertPath) tls.serverCaCertPath = abs(tls.serverCaCertPath);
  // A lab program named by a path is the config's neighbour; a bare name is looked up on PATH.
  for (const l of cfg.labs) if (l.shell && l.shell.program.includes('/')) l.shell.program = abs(l.shell.program);
  // A tree on this machine may be named relative to the config, like the demo tree.
  for (const t of cfg.trees)
    if (!/^[a-z][a-z0-9+.-]*:\/\//.test(t.url) && !/^[^/]+@[^/:]+:/.test(t.url)) t.url = abs(t.url);
  return cfg;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): BootfarmConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // Paths in the file are the file's neighbours; paths in the environment are taken from the working directory.
  const cfg = applyEnvOverrides(resolvePaths(parseConfig(text, file), dirname(resolve(file))), env);
  const weak = env.BOOTFARM_ADMIN_TOKEN && !cfg.demo ? weakAdminToken(env.BOOTFARM_ADMIN_TOKEN) : undefined;
  if (weak) throw new ConfigError(`BOOTFARM_ADMIN_TOKEN: ${weak} (outside demo: true)`);
  return cfg;
}
