import { z } from 'zod';
import { BRANCH_PATTERN } from './names';
import { DEFAULT_FLAKE_THRESHOLD } from './bisect';
import { taskQueues } from './ids';
import { checkRetentionAgainstLabs, retentionSchema } from './retention';
import { archField as arch, durationField as duration, nameField as name } from './configFields';
import { checkTestPlans, testPlanSchema, testSuiteSchema, treeTestPlans } from './testPlans';

export { testPlanSchema, testSuiteSchema } from './testPlans';
import { trySchema } from './tryRun';

export const buildConfigSchema = z.strictObject({
  name,
  arch,
  defconfig: name,
  /** paths of config fragments inside the tree, or kconfig lines ("CONFIG_FOO=y") */
  fragments: z
    .array(
      z
        .string()
        .regex(
          /^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set|[A-Za-z0-9._/-]+\.config)$/,
          'a fragment path ending in .config or a CONFIG_…= line',
        ),
    )
    .default([]),
  toolchain: z
    .string()
    .regex(/^(gcc|clang)(-\d+)?$/, 'gcc, gcc-N, clang or clang-N')
    .default('gcc'),
});

export const platformSchema = z.strictObject({
  name,
  arch,
  soc: z.string().default('qemu'),
  dtb: z.string().nullable().default(null),
  bootMethod: z.enum(['qemu', 'lava', 'shell', 'api']).default('qemu'),
  /** a ramdisk key in the artifact store or a path; null = none */
  ramdisk: z.string().nullable().default(null),
  kernelArgs: z.string().default(''),
  memoryMb: z.number().int().positive().default(256),
  successPattern: z.string().default('BOOTFARM: boot ok'),
  failurePatterns: z.array(z.string()).default(['Kernel panic', 'Oops:', 'BUG:', 'No working init found']),
  bootTimeout: duration.optional(),
});

/**
 * A key that was renamed: refused by `config check` with its line and a
 * message naming the new key, rather than as an unknown key.
 */
function renamedTo(key: string, what: string) {
  return z.never({ error: `renamed \`${key}\` (${what}): write ${key} instead` }).optional();
}

/** Boards of one platform in a lab: the most boots its task queue's workers take at once. */
export const MAX_BOARDS = 1000;
export const labPlatformSchema = z.strictObject({
  name,
  capacity: z
    .number()
    .int('a whole number of boards')
    .min(1, 'at least 1 board: a platform with no boards takes no boot (leave it out of the lab instead)')
    .max(MAX_BOARDS, `at most ${MAX_BOARDS} boards per platform and lab`)
    .default(1),
});

/**
 * A tree's weight when trees wait for the same boards (Temporal's fairness
 * weight): Temporal clamps weights to this range silently, so a value outside
 * it is refused instead.
 */
export const SHARE_RANGE = { min: 0.001, max: 1000 } as const;

export const labSchema = z.strictObject({
  name,
  adapter: z.enum(['qemu', 'lava', 'shell', 'api', 'bench']),
  /** `name` alone is one board of it */
  platforms: z.array(z.preprocess((p) => (typeof p === 'string' ? { name: p } : p), labPlatformSchema)).min(1),
  /** no worker picked the boot up within this → offline */
  scheduleToStartTimeout: duration.prefault(120),
  bootTimeout: duration.prefault(120),
  /** tries of a boot that ends in an infrastructure error, the first included */
  attempts: z.number().int().min(1).max(20).default(3),
  /** the old name of `attempts`: it counted tries, not retries */
  retries: renamedTo('attempts', 'the number of tries of a boot, the first included'),
  /** a lab with no poller for longer than this gets its boots recorded offline at dispatch */
  offlineGrace: duration.prefault(60),
  /** a boot whose worker has not heartbeated for this long is taken for lost (a dead worker) and retried on any worker of the lab */
  heartbeatTimeout: duration
    .prefault(60)
    .refine((ms) => ms >= 5000, 'at least 5s: lab workers heartbeat every 2s, and a busy one may be late'),
  /** what a boot may take beyond its boot timeout (fetching the kernel, starting the job, storing the log); default 30s + a quarter of the timeout */
  bootMargin: duration.optional(),
  lava: z
    .strictObject({
      url: z.string().url(),
      token: z.string(),
      /** a job template file, or a directory of <platform>.yaml.tmpl / <arch>.yaml.tmpl (default labs/lava/jobs/) */
      jobTemplate: z.string().optional(),
      /** where LAVA downloads artifacts by key (e.g. the dashboard's /artifacts/); default: served by the lab worker */
      artifactsUrl: z.string().url().optional(),
      /** the lab worker's address as LAVA's dispatcher reaches it, for the files it serves (default 127.0.0.1) */
      serveHost: z.string().optional(),
    })
    .optional(),
  shell: z.strictObject({ program: z.string(), args: z.array(z.string()).default([]) }).optional(),
});

export const reportSchema = z.strictObject({
  to: z.array(z.string().email()).default([]),
  cc: z.array(z.string().email()).default([]),
  from: z.string().default('Bootfarm <bootfarm@localhost>'),
  textOnly: z.boolean().default(false),
  delay: duration.prefault('1h'),
  /** addresses a bisection culprit's commit (author, trailers) may add to its report beyond the list */
  maxCommitRecipients: z.number().int().min(0).max(100).default(10),
});

export const bisectSchema = z.strictObject({
  enabled: z.boolean().default(true),
  verifyRuns: z.number().int().min(1).max(10).default(3),
  parallel: z.number().int().min(1).max(16).default(1),
  /** boots per bisection step (and endpoint); a step's verdict is their weighted majority, a split is re-tested */
  stepRuns: z
    .number({ error: 'boots per bisection step: a whole number from 1 to 9' })
    .int('boots per bisection step: a whole number from 1 to 9')
    .min(1, 'boots per bisection step: at least 1')
    .max(9, 'boots per bisection step: at most 9 (a split vote is re-tested anyway)')
    .default(1),
  /** a platform whose recent flake rate (share of good kernels' boots that fail) is above this gets 2 boots per step at least */
  flakeThreshold: z
    .number({ error: 'flake rate threshold: a share of boots from 0 to 0.5, e.g. 0.05' })
    .min(0, 'flake rate threshold: a share of boots from 0 to 0.5, e.g. 0.05, not a negative one')
    .max(0.5, 'flake rate threshold: at most 0.5 (a board that fails more often than not cannot judge a kernel)')
    .default(DEFAULT_FLAKE_THRESHOLD),
});

export const treeSchema = z.strictObject({
  name,
  url: z.string().min(1),
  branches: z
    .array(
      z.union([
        z
          .string()
          .regex(BRANCH_PATTERN)
          .transform((b) => ({ name: b, interval: 300_000 })),
        z.strictObject({
          name: z.string().regex(BRANCH_PATTERN, 'a git branch name'),
          interval: duration.prefault(300),
        }),
      ]),
    )
    .min(1),
  buildConfigs: z.array(name).min(1),
  concurrency: z.number().int().min(1).max(512).default(8),
  report: reportSchema.default(() => reportSchema.parse({})),
  bisect: bisectSchema.default(() => bisectSchema.parse({})),
  /** a boot failure that would be a new regression is booted again this many times before it is declared one */
  confirmations: z.number().int().min(0).max(5).default(1),
  /**
   * The tree's share of boards (and builders) when several trees wait for
   * them: boots are handed out in proportion to the trees' shares (default 1
   * each; 2 = twice the boots of a tree with 1). docs/labs.md.
   */
  share: z
    .number()
    .min(SHARE_RANGE.min, `a share from ${SHARE_RANGE.min} to ${SHARE_RANGE.max} (relative to other trees; default 1)`)
    .max(SHARE_RANGE.max, `a share from ${SHARE_RANGE.min} to ${SHARE_RANGE.max} (relative to other trees; default 1)`)
    .default(1),
  /** test plans (testPlans) run after each successful boot of the tree (domain/testPlans.ts) */
  testPlans: treeTestPlans,
});

/** TLS to the Temporal frontend: files are PEM; a client certificate comes with its key (mTLS). */
export const temporalTlsSchema = z.strictObject({
  /** default: on when any other TLS setting or an API key is given */
  enabled: z.boolean().optional(),
  clientCertPath: z.string().min(1).optional(),
  clientKeyPath: z.string().min(1).optional(),
  /** the CA that signed the server's certificate (default: the system's roots) */
  serverCaCertPath: z.string().min(1).optional(),
  /** the name the server's certificate must carry, when it is not the address's host */
  serverName: z.string().min(1).optional(),
});

/** Admin tokens published somewhere (this repository's demo config, docker-compose, common defaults). */
export const KNOWN_ADMIN_TOKENS = ['demo-admin-token', 'change-me-admin-token', 'changeme', 'admin', 'secret', 'token'];
export const MIN_ADMIN_TOKEN_LENGTH = 24;

/** Why an admin token must not guard a real deployment, or undefined. */
export function weakAdminToken(token: string): string | undefined {
  if (KNOWN_ADMIN_TOKENS.includes(token.trim().toLowerCase()))
    return 'a published admin token (anyone can read it); leave it out to have one generated, or set a secret one';
  if (token.length < MIN_ADMIN_TOKEN_LENGTH)
    return `an admin token of at least ${MIN_ADMIN_TOKEN_LENGTH} characters (or none: one is generated on first start)`;
  return undefined;
}

const port = z.number().int().min(0).max(65535);

/** Prometheus endpoints of each worker process and the thresholds the committed alert rules read (docs/operations.md). */
export const metricsSchema = z.strictObject({
  /** where the endpoints listen; 0.0.0.0 for a Prometheus on another host */
  host: z.string().default('127.0.0.1'),
  /** Bootfarm's own metrics (/metrics) of this process; 0 = off */
  port: port.default(9464),
  /** the Temporal SDK's runtime metrics (/metrics, served by the SDK's core) of this process; 0 = off */
  temporalPort: port.default(9465),
  /** alert BootfarmBacklogOld: a lab or build queue whose oldest task waited longer than this */
  backlogAlertAge: duration.prefault('15m'),
  /** alert BootfarmInfraErrorRate: a lab whose boots ended infra-error more often than this, over 15 minutes */
  infraErrorAlertRatio: z.number().gt(0, 'a fraction above 0').max(1, 'a fraction of at most 1').default(0.25),
});

export const METRICS_DEFAULTS = {
  host: '127.0.0.1',
  port: 9464,
  temporalPort: 9465,
  backlogAlertAge: 900_000,
  infraErrorAlertRatio: 0.25,
};

export const configSchema = z
  .strictObject({
    dataDir: z.string().default('.bootfarm'),
    /** `bootfarm up` generates the fixture tree of tree "demo" and pushes a regression to it */
    demo: z.boolean().default(false),
    temporal: z
      .strictObject({
        address: z.string().default('127.0.0.1:7233'),
        namespace: z.string().default('default'),
        uiPort: z.number().int().min(1).max(65535).default(8233),
        /** the Temporal Web UI the dashboard links to (default http://127.0.0.1:<uiPort>, the embedded one) */
        uiUrl: z.string().url().optional(),
        /** Temporal Cloud's API key (sent as a bearer token; turns TLS on unless tls.enabled is false) */
        apiKey: z.string().min(1).optional(),
        tls: temporalTlsSchema.optional(),
      })
      .default(() => ({ address: '127.0.0.1:7233', namespace: 'default', uiPort: 8233 })),
    database: z
      .strictObject({ url: z.string().optional(), port: z.number().int().min(1).max(65535).default(5433) })
      .default(() => ({ port: 5433 })),
    artifacts: z
      .discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('dir'), path: z.string().default('.bootfarm/artifacts') }),
        z.strictObject({
          kind: z.literal('s3'),
          endpoint: z.string().optional(),
          bucket: z.string(),
          region: z.string().default('us-east-1'),
          accessKeyId: z.string().optional(),
          secretAccessKey: z.string().optional(),
        }),
      ])
      .default(() => ({ kind: 'dir' as const, path: '.bootfarm/artifacts' })),
    email: z
      .strictObject({ smtpUrl: z.string().optional(), outbox: z.string().default('.bootfarm/outbox') })
      .default(() => ({ outbox: '.bootfarm/outbox' })),
    dashboard: z
      .strictObject({
        port: z.number().int().min(1).max(65535).default(8080),
        /** the address `bootfarm dashboard` listens on (its --host); 0.0.0.0 for every interface */
        host: z.string().min(1).default('127.0.0.1'),
        publicUrl: z.string().optional(),
        adminToken: z.string().optional(),
        /** Host names the dashboard answers to besides localhost, IP addresses and publicUrl's host */
        allowedHosts: z.array(z.string().regex(/^[A-Za-z0-9.-]+$/, 'a host name')).default([]),
      })
      .default(() => ({ port: 8080, host: '127.0.0.1', allowedHosts: [] })),
    builder: z
      .strictObject({
        jobs: z.number().int().min(1).max(256).optional(),
        workDir: z.string().default('.bootfarm/builder'),
        ccache: z.boolean().default(true),
        /** on SIGTERM a builder finishes its running build for at most this long, then gives it back for a retry */
        shutdownGrace: duration.prefault('30m'),
        /** the stored build log keeps at most this many bytes: its first quarter and its last three */
        maxLogBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(16 * 1024 * 1024),
        /** a build (all its make steps) that runs longer is stopped and fails */
        buildTimeout: duration.prefault('3h'),
        /** the uid and gid builds run as when the builder is root (no passwd entry needed) */
        boxUser: z
          .strictObject({ uid: z.number().int().min(1).max(4294967294), gid: z.number().int().min(1).max(4294967294) })
          .default(() => ({ uid: 64200, gid: 64200 })),
      })
      .prefault({}),
    metrics: metricsSchema.default(() => ({ ...METRICS_DEFAULTS })),
    trees: z.array(treeSchema).default([]),
    buildConfigs: z.array(buildConfigSchema).default([]),
    platforms: z.array(platformSchema).default([]),
    labs: z.array(labSchema).default([]),
    /** what is removed when (domain/retention.ts, docs/retention.md) */
    retention: retentionSchema.prefault({}),
    /** the test suites the labs' kernels and ramdisks have, and the plans over them (domain/testPlans.ts) */
    testSuites: z.array(testSuiteSchema).default([]),
    testPlans: z.array(testPlanSchema).default([]),
    /** `bootfarm try`: developers' own kernels on the labs (domain/tryRun.ts) */
    try: trySchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const unique = (items: { name: string }[], path: string) => {
      const seen = new Set<string>();
      items.forEach((it, i) => {
        if (seen.has(it.name))
          ctx.addIssue({
            code: 'custom',
            path: [path, i, 'name'],
            message: `duplicate name ${JSON.stringify(it.name)}`,
          });
        seen.add(it.name);
      });
    };
    const token = cfg.dashboard.adminToken;
    const weak = token === undefined || cfg.demo ? undefined : weakAdminToken(token);
    if (weak)
      ctx.addIssue({ code: 'custom', path: ['dashboard', 'adminToken'], message: `${weak} (outside demo: true)` });
    unique(cfg.trees, 'trees');
    unique(cfg.buildConfigs, 'buildConfigs');
    unique(cfg.platforms, 'platforms');
    unique(cfg.labs, 'labs');
    if (cfg.metrics.port && cfg.metrics.port === cfg.metrics.temporalPort)
      ctx.addIssue({
        code: 'custom',
        path: ['metrics', 'temporalPort'],
        message: `the same port as metrics.port (${cfg.metrics.port}): each endpoint needs its own`,
      });
    const configs = new Set(cfg.buildConfigs.map((c) => c.name));
    const platforms = new Map(cfg.platforms.map((p) => [p.name, p]));
    cfg.trees.forEach((t, i) =>
      t.buildConfigs.forEach((c, j) => {
        if (!configs.has(c))
          ctx.addIssue({
            code: 'custom',
            path: ['trees', i, 'buildConfigs', j],
            message: `unknown build config ${JSON.stringify(c)}`,
          });
      }),
    );
    cfg.labs.forEach((l, i) => {
      l.platforms.forEach((p, j) => {
        if (!platforms.has(p.name))
          ctx.addIssue({
            code: 'custom',
            path: ['labs', i, 'platforms', j],
            message: `unknown platform ${JSON.stringify(p.name)}`,
          });
      });
      if (l.adapter === 'lava' && !l.lava)
        ctx.addIssue({ code: 'custom', path: ['labs', i, 'lava'], message: 'a lava lab needs lava: {url, token}' });
      if (l.adapter === 'shell' && !l.shell)
        ctx.addIssue({ code: 'custom', path: ['labs', i, 'shell'], message: 'a shell lab needs shell: {program}' });
    });
    // lab "a-b" with platform "c" and lab "a" with platform "b-c" would share the task queue lab-a-b-c
    const queues = new Map<string, { lab: string; platform: string }>();
    cfg.labs.forEach((l, i) =>
      l.platforms.forEach((p, j) => {
        const queue = taskQueues.labPlatform(l.name, p.name);
        const other = queues.get(queue);
        if (other)
          ctx.addIssue({
            code: 'custom',
            path: ['labs', i, 'platforms', j],
            message:
              other.lab === l.name
                ? `platform ${p.name} is listed twice in lab ${l.name}: give it one entry with its capacity`
                : `platform ${p.name} of lab ${l.name} and platform ${other.platform} of lab ${other.lab} would share the task queue ${queue}: rename one of the labs`,
          });
        else queues.set(queue, { lab: l.name, platform: p.name });
      }),
    );
    checkRetentionAgainstLabs(cfg.retention, cfg.labs, ctx);
    checkTestPlans(cfg, ctx);
    cfg.platforms.forEach((p, i) => {
      if (!cfg.labs.some((l) => l.platforms.some((lp) => lp.name === p.name)))
        ctx.addIssue({
          code: 'custom',
          path: ['platforms', i, 'name'],
          message: `platform ${JSON.stringify(p.name)} is in no lab`,
        });
    });
  });

export type BootfarmConfig = z.output<typeof configSchema>;
export type TreeConfig = z.output<typeof treeSchema>;
export type BuildConfig = z.output<typeof buildConfigSchema>;
export type PlatformConfig = z.output<typeof platformSchema>;
export type LabConfig = z.output<typeof labSchema>;
export type ReportConfig = z.output<typeof reportSchema>;
export type MetricsConfig = z.output<typeof metricsSchema>;
