/**
 * The rules of KCIDB I/O schema v4.3 (kcidb-io, v04_03) that an exporter
 * can break: required fields, the properties each object may have (no
 * others), origin and id patterns, the test status enum, no nulls anywhere,
 * RFC 3339 timestamps, https/git repository URLs, absolute URLs, and links
 * between objects. Returns the violations, empty when the data is valid.
 */
const ORIGIN = /^[a-z0-9_]+$/;
const ORIGIN_ID = /^[a-z0-9_]+:.*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const STATUSES = ['FAIL', 'ERROR', 'MISS', 'PASS', 'DONE', 'SKIP'];

const RESOURCE_LIST = (v: unknown) =>
  Array.isArray(v) &&
  v.every(
    (r) =>
      r &&
      typeof r.name === 'string' &&
      /^[^/]+$/.test(r.name) &&
      isUrl(r.url) &&
      Object.keys(r).every((k) => k === 'name' || k === 'url'),
  );

function isUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    return Boolean(new URL(v).protocol);
  } catch {
    return false;
  }
}

const str = (v: unknown) => typeof v === 'string';
const time = (v: unknown) => typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v));
const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const bool = (v: unknown) => typeof v === 'boolean';
const obj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

type Rules = { required: string[]; props: Record<string, (v: unknown) => boolean> };

const CHECKOUT: Rules = {
  required: ['id', 'origin'],
  props: {
    _timestamp: time,
    id: (v) => str(v) && ORIGIN_ID.test(v as string),
    origin: (v) => str(v) && ORIGIN.test(v as string),
    tree_name: str,
    git_repository_url: (v) => str(v) && /^(https|git):\/\/.*$/.test(v as string),
    git_commit_hash: (v) => str(v) && /^[0-9a-f]{40}$/.test(v as string),
    git_commit_name: str,
    git_repository_branch: str,
    patchset_files: RESOURCE_LIST,
    patchset_hash: (v) => str(v) && /^$|^[0-9a-f]{64}$/.test(v as string),
    message_id: str,
    comment: str,
    start_time: time,
    contacts: (v) => Array.isArray(v) && v.every(str),
    log_url: isUrl,
    log_excerpt: (v) => str(v) && (v as string).length <= 16384,
    valid: bool,
    misc: obj,
  },
};

const BUILD: Rules = {
  required: ['checkout_id', 'id', 'origin'],
  props: {
    _timestamp: time,
    checkout_id: (v) => str(v) && ORIGIN_ID.test(v as string),
    id: (v) => str(v) && ORIGIN_ID.test(v as string),
    origin: (v) => str(v) && ORIGIN.test(v as string),
    comment: str,
    start_time: time,
    duration: num,
    architecture: (v) => str(v) && /^[a-z0-9_]*$/.test(v as string),
    command: str,
    compiler: str,
    input_files: RESOURCE_LIST,
    output_files: RESOURCE_LIST,
    config_name: str,
    config_url: isUrl,
    log_url: isUrl,
    log_excerpt: (v) => str(v) && (v as string).length <= 16384,
    valid: bool,
    misc: obj,
  },
};

const TEST: Rules = {
  required: ['build_id', 'id', 'origin'],
  props: {
    _timestamp: time,
    build_id: (v) => str(v) && ORIGIN_ID.test(v as string),
    id: (v) => str(v) && ORIGIN_ID.test(v as string),
    origin: (v) => str(v) && ORIGIN.test(v as string),
    environment: (v) => obj(v) && Object.keys(v as object).every((k) => k === 'comment' || k === 'misc'),
    path: (v) => str(v) && /^[.a-zA-Z0-9_-]*$/.test(v as string),
    comment: str,
    log_url: isUrl,
    log_excerpt: (v) => str(v) && (v as string).length <= 16384,
    status: (v) => STATUSES.includes(v as string),
    waived: bool,
    start_time: time,
    duration: num,
    output_files: RESOURCE_LIST,
    misc: obj,
  },
};

function noNulls(v: unknown, where: string, out: string[]): void {
  if (v === null) out.push(`${where} is null`);
  else if (Array.isArray(v)) v.forEach((x, i) => noNulls(x, `${where}[${i}]`, out));
  else if (typeof v === 'object') for (const [k, x] of Object.entries(v as object)) noNulls(x, `${where}.${k}`, out);
}

function check(kind: string, items: unknown, rules: Rules, out: string[]): Record<string, unknown>[] {
  if (items === undefined) return [];
  if (!Array.isArray(items)) {
    out.push(`${kind} is not an array`);
    return [];
  }
  items.forEach((item, i) => {
    const where = `${kind}[${i}]`;
    if (!obj(item)) return out.push(`${where} is not an object`);
    for (const r of rules.required) if (!(r in item)) out.push(`${where} lacks required ${r}`);
    for (const [k, v] of Object.entries(item)) {
      const ok = rules.props[k];
      if (!ok) out.push(`${where} has unknown property ${k}`);
      else if (!ok(v)) out.push(`${where}.${k} is invalid: ${JSON.stringify(v)}`);
    }
  });
  return items as Record<string, unknown>[];
}

export function kcidbViolations(data: unknown): string[] {
  const out: string[] = [];
  if (!obj(data)) return ['not an object'];
  const d = data as Record<string, unknown>;
  noNulls(d, '$', out);
  for (const k of Object.keys(d))
    if (!['version', 'checkouts', 'builds', 'tests', 'issues', 'incidents'].includes(k))
      out.push(`unknown top-level ${k}`);
  const v = d.version as Record<string, unknown> | undefined;
  if (!v || v.major !== 4) out.push('version.major must be 4');
  if (
    v &&
    v.minor !== undefined &&
    !(Number.isInteger(v.minor) && (v.minor as number) >= 0 && (v.minor as number) <= 3)
  )
    out.push('version.minor must be 0..3');
  if (v && Object.keys(v).some((k) => k !== 'major' && k !== 'minor')) out.push('version has unknown properties');
  const checkouts = check('checkouts', d.checkouts, CHECKOUT, out);
  const builds = check('builds', d.builds, BUILD, out);
  const tests = check('tests', d.tests, TEST, out);
  const ids = (xs: Record<string, unknown>[]) => new Set(xs.map((x) => x.id));
  for (const xs of [checkouts, builds, tests]) if (ids(xs).size !== xs.length) out.push('duplicate ids');
  const checkoutIds = ids(checkouts);
  const buildIds = ids(builds);
  builds.forEach((b, i) => checkoutIds.has(b.checkout_id) || out.push(`builds[${i}].checkout_id names no checkout`));
  tests.forEach((t, i) => buildIds.has(t.build_id) || out.push(`tests[${i}].build_id names no build`));
  return out;
}
