import { markup, trusted, type Renderable, type SafeHtml } from '../html';

export interface PageContext {
  temporalUiUrl: string;
  temporalNamespace: string;
}

const NAV: [string, string][] = [
  ['/', 'Trees'],
  ['/revisions', 'Revisions'],
  ['/regressions', 'Regressions'],
  ['/bisections', 'Bisections'],
  ['/labs', 'Labs'],
  ['/platforms', 'Platforms'],
  ['/charts', 'Charts'],
  ['/outbox', 'Outbox'],
  ['/api/openapi.json', 'API'],
];

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#24292f;color:#fff;padding:.5rem 1rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
header a{color:#d0d7de;text-decoration:none}header a:hover{color:#fff}header strong a{color:#fff}
main{padding:1rem 1.5rem;max-width:1400px}
h1{font-size:1.4rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;margin:.3rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
a{color:#0969da}code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.st{display:inline-block;border-radius:4px;padding:0 .4rem;font-weight:600;text-decoration:none;margin:1px}
.st-pass{color:#1a7f37;background:#dafbe1}.st-fail{color:#cf222e;background:#ffebe9}
.st-infra-error{color:#9a6700;background:#fff8c5}.st-offline{color:#57606a;background:#eaeef2}
.st-skip{color:#6e7781;background:#f6f8fa}.st-running,.st-queued{color:#0969da;background:#ddf4ff}
.st-error,.st-invalid,.st-not-found{color:#cf222e;background:#ffebe9}.st-found,.st-done{color:#1a7f37;background:#dafbe1}
.st-new{color:#cf222e;background:#ffebe9}.st-still-failing{color:#bc4c00;background:#fff1e5}.st-fixed{color:#1a7f37;background:#dafbe1}
.st-online{color:#1a7f37;background:#dafbe1}.st-partial{color:#9a6700;background:#fff8c5}.st-unknown{color:#57606a;background:#eaeef2}
td.cell-fail{background:#fff5f5}td.cell-pass{background:#f6fff8}
.muted{color:#656d76}.small{font-size:12px}
pre.log{background:#0d1117;color:#e6edf3;padding:.6rem;overflow:auto;max-height:80vh;line-height:1.35}
pre.log .ln{color:#6e7681;user-select:none;display:inline-block;width:5ch;text-align:right;margin-right:1ch;text-decoration:none}
pre.log .hl-panic{background:#8b1a1a;color:#fff;font-weight:700}pre.log .hl-error{background:#5c1d1d;color:#ffdcd7}
pre.log .hl-warning{background:#4d3800;color:#fff3c4}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem}dl.kv dt{font-weight:600}dl.kv dd{margin:0}
.pager{margin:.8rem 0}form.filters{margin:.4rem 0 .8rem;display:flex;gap:.5rem;flex-wrap:wrap;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:#656d76}
`;

/** `refreshSeconds`: the page reloads itself that often (a running revision or bisection). */
export function layout(title: string, body: Renderable, opts: { refreshSeconds?: number } = {}): SafeHtml {
  return markup`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        ${opts.refreshSeconds ? markup`<meta http-equiv="refresh" content="${String(opts.refreshSeconds)}" />` : ''}
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Bootfarm</title>
        <style>
          ${trusted(CSS)}
        </style>
      </head>
      <body>
        <header>
          <strong><a href="/">Bootfarm</a></strong
          >${NAV.map(([href, label]) => markup`<a href="${href}">${label}</a>`)}
        </header>
        <main>${body}</main>
      </body>
    </html>`;
}

export function statusBadge(status: string | null | undefined, label?: Renderable): SafeHtml {
  const s = status ?? 'unknown';
  return markup`<span class="st st-${s.replace(/[^a-z-]/g, '')}">${label ?? s}</span>`;
}

export function statusLink(href: string, status: string, label: Renderable, title?: string): SafeHtml {
  return markup`<a class="st st-${status.replace(/[^a-z-]/g, '')}" href="${href}" title="${title ?? status}"
    >${label}</a
  >`;
}

export function time(iso: string | null | undefined): SafeHtml {
  if (!iso) return markup`<span class="muted">–</span>`;
  return markup`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')}</time>`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** `1 error`, `3 errors` */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function short(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 12) : '–';
}

export function workflowUrl(ctx: PageContext, workflowId: string): string {
  return `${ctx.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ctx.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function workflowLink(
  ctx: PageContext,
  workflowId: string | null | undefined,
  label: Renderable = 'workflow',
): SafeHtml {
  if (!workflowId) return markup`<span class="muted">no workflow</span>`;
  return markup`<a class="temporal" href="${workflowUrl(ctx, workflowId)}" title="${workflowId} in the Temporal Web UI"
    >${label}</a
  >`;
}

export function countsText(counts: Record<string, number>): SafeHtml {
  const order = ['fail', 'infra-error', 'offline', 'pass', 'skip', 'running', 'queued'];
  const keys = Object.keys(counts).sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  if (!keys.length) return markup`<span class="muted">none</span>`;
  return markup`${keys.map((k) => statusBadge(k, `${counts[k]} ${k}`))}`;
}

export function pager(nextHref: string | null): SafeHtml {
  return markup`<div class="pager">
    ${nextHref ? markup`<a href="${nextHref}">Older →</a>` : markup`<span class="muted">end of list</span>`}
  </div>`;
}
