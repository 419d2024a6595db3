import type { BootfarmConfig } from '../domain/config';
import { UserError } from './fail';
import { adminTokenFile, readSecret } from '../plumbing/secrets';

/** The dashboard of `bootfarm up` or of a deployment: DASHBOARD_URL / dashboard.publicUrl, else its local port. */
export function dashboardUrl(config: BootfarmConfig): string {
  return (config.dashboard.publicUrl ?? `http://127.0.0.1:${config.dashboard.port}`).replace(/\/+$/, '');
}

/**
 * One call of the dashboard's REST API with the admin token
 * (dashboard.adminToken, BOOTFARM_ADMIN_TOKEN, or the one `bootfarm up` generated), for the commands that act
 * on a running stack; a refusal becomes the server's one-line reason.
 */
export async function callDashboard<T>(
  config: BootfarmConfig,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const base = dashboardUrl(config);
  // `bootfarm up` generates one into the data directory when none is configured
  const token = config.dashboard.adminToken ?? readSecret(adminTokenFile(config.dataDir));
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    const reason = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
    throw new UserError(`cannot reach the dashboard at ${base} (is \`bootfarm up\` running?): ${reason}`);
  }
  const { text, json } = await answerOf(res);
  if (!res.ok) {
    const error = (json as { error?: unknown } | undefined)?.error;
    throw new UserError(`${method} ${path}: ${res.status}: ${typeof error === 'string' ? error : text.slice(0, 200)}`);
  }
  return { status: res.status, json: json as T };
}

/** A dashboard answer's text, and its JSON when it is JSON (an error page may not be). */
export async function answerOf(res: Response): Promise<{ text: string; json: unknown }> {
  const text = await res.text();
  try {
    return { text, json: JSON.parse(text) as unknown };
  } catch {
    return { text, json: undefined };
  }
}
