/**
 * The generated history on top of the imported linux-source: a few harmless
 * commits, then one that makes x86_64 kernels panic in early init (the boot
 * regression to bisect), then a few more harmless ones. Everything about the
 * commits is fixed (authors, dates, contents), so the same tarball always
 * gives the same shas: builders, mirrors and caches stay valid across runs.
 *
 * The harmless commits append a comment to a file every tinyconfig kernel
 * compiles, so each one really rebuilds something (and ccache, which
 * compares preprocessed sources, answers it); nothing after the culprit
 * touches init/main.c, so reverting the culprit on the bad head applies.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { commitHeader, fastImport, fileModify, type Identity } from './tarImport';

const execFileP = promisify(execFile);

/** Bump when the story changes: cached trees with another version are regenerated. */
export const HISTORY_VERSION = 1;

/** The panic line the culprit adds; a boot of an affected kernel shows "Kernel panic - not syncing: <this>". */
export const INJECTED_PANIC = 'bootfarm: injected';

export const MAINTAINER: Identity = { name: 'Bootfarm Maintainer', email: 'maintainer@real-linux.bootfarm.test' };
const DEV: Identity = { name: 'Dana Developer', email: 'dana.developer@real-linux.bootfarm.test' };
export const CULPRIT_AUTHOR: Identity = { name: 'Jane Hacker', email: 'jane.hacker@real-linux.bootfarm.test' };
export const CULPRIT_REVIEWER: Identity = { name: 'Rob Reviewer', email: 'rob.reviewer@real-linux.bootfarm.test' };

/** What a story commit is for. */
export type StoryRole = 'change' | 'good-head' | 'culprit' | 'bad-head';

type Edit = { path: string; create: string } | { path: string; change: (text: string) => string };

interface StoryCommit {
  subject: string;
  body: string;
  author: Identity;
  trailers: string[];
  edit: Edit;
  role: StoryRole;
}

const signedOff = (who: Identity) => `Signed-off-by: ${who.name} <${who.email}>`;

/** A comment appended at the end of a source file: no line of the code moves. */
const appendComment = (path: string, text: string): Edit => ({
  path,
  change: (src) => `${src.replace(/\n*$/, '\n')}\n/* ${text} */\n`,
});

const ANCHOR = '\tdo_sysctl_args();\n\n\tif (ramdisk_execute_command) {';

/** The regression: x86_64 kernels panic in kernel_init() just before running /init (arm64 keeps booting). */
export function injectPanic(mainC: string): string {
  if (!mainC.includes(ANCHOR))
    throw new Error('init/main.c has no do_sysctl_args() before running init: not a 6.1-like kernel_init()');
  return mainC.replace(
    ANCHOR,
    [
      '\tdo_sysctl_args();',
      '',
      '\t/* Refuse to start userspace when the early boot state is inconsistent. */',
      '\tif (IS_ENABLED(CONFIG_X86_64))',
      `\t\tpanic("${INJECTED_PANIC}");`,
      '',
      '\tif (ramdisk_execute_command) {',
    ].join('\n'),
  );
}

export const STORY: readonly StoryCommit[] = [
  {
    subject: 'Documentation: describe the Bootfarm test tree',
    body: "This tree is Debian's linux-source with a short generated history on top,\nused by Bootfarm's tests and demo.",
    author: MAINTAINER,
    trailers: [signedOff(MAINTAINER)],
    edit: {
      path: 'Documentation/bootfarm.rst',
      create:
        ".. SPDX-License-Identifier: GPL-2.0\n\n=====================\nThe Bootfarm test tree\n=====================\n\nDebian's linux-source with a generated history on top: harmless changes,\nand one commit that makes x86_64 kernels panic in early init.\n",
    },
    role: 'change',
  },
  {
    subject: 'lib/string: note why the byte-wise fallback stays',
    body: 'Architectures without an optimised memcpy() still use it.',
    author: DEV,
    trailers: [signedOff(DEV)],
    edit: appendComment('lib/string.c', 'The byte-wise helpers above are the fallback of every architecture.'),
    role: 'change',
  },
  {
    subject: 'printk: explain why early messages are kept',
    body: 'The console may register late; the ring buffer replays what came before.',
    author: DEV,
    trailers: [signedOff(DEV)],
    edit: appendComment('kernel/printk/printk.c', 'Messages printed before a console registers are replayed to it.'),
    role: 'good-head',
  },
  {
    subject: 'init: check the early boot state before running init',
    body: 'Starting userspace with an inconsistent early boot state only moves the\nfailure somewhere harder to debug; stop right there instead.',
    author: CULPRIT_AUTHOR,
    trailers: [signedOff(CULPRIT_AUTHOR), `Reviewed-by: ${CULPRIT_REVIEWER.name} <${CULPRIT_REVIEWER.email}>`],
    edit: { path: 'init/main.c', change: injectPanic },
    role: 'culprit',
  },
  {
    subject: 'mm: page_alloc: comment the watermark boost',
    body: 'Say when the boost is reset.',
    author: DEV,
    trailers: [signedOff(DEV)],
    edit: appendComment('mm/page_alloc.c', 'The watermark boost decays once kswapd has balanced the node.'),
    role: 'change',
  },
  {
    subject: 'fork: document the clone fast path',
    body: 'Most clones take the path without a new mm.',
    author: DEV,
    trailers: [signedOff(DEV)],
    edit: appendComment('kernel/fork.c', 'Threads share the mm and skip dup_mm() entirely.'),
    role: 'bad-head',
  },
];

export interface StoryCommitInfo {
  sha: string;
  subject: string;
  role: StoryRole;
}

async function gitOut(repo: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP('git', ['-C', repo, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * Writes the story onto `ref`, starting from `base` (the imported commit),
 * an hour per commit after `baseEpoch`; returns the commits in order.
 */
export async function writeStory(opts: {
  repo: string;
  base: string;
  baseEpoch: number;
  ref: string;
}): Promise<StoryCommitInfo[]> {
  const contents = new Map<string, string>();
  const read = async (path: string) =>
    contents.get(path) ?? (await gitOut(opts.repo, ['cat-file', 'blob', `${opts.base}:${path}`]));
  const changes: { commit: StoryCommit; content: string }[] = [];
  for (const commit of STORY) {
    const { edit } = commit;
    const content = 'create' in edit ? edit.create : edit.change(await read(edit.path));
    contents.set(edit.path, content);
    changes.push({ commit, content });
  }
  await fastImport(opts.repo, async (stdin) => {
    const write = (s: string | Buffer) =>
      new Promise<void>((resolve, reject) => stdin.write(s, (e) => (e ? reject(e) : resolve())));
    await write(`reset ${opts.ref}\nfrom ${opts.base}\n\n`);
    for (const [i, { commit, content }] of changes.entries()) {
      const message = `${commit.subject}\n\n${commit.body}\n\n${commit.trailers.join('\n')}\n`;
      await write(
        commitHeader({
          ref: opts.ref,
          author: commit.author,
          committer: MAINTAINER,
          epoch: opts.baseEpoch + 3600 * (i + 1),
          message,
        }),
      );
      await write(fileModify(commit.edit.path, content));
      await write('\n');
    }
  });
  const shas = (await gitOut(opts.repo, ['rev-list', '--reverse', '--first-parent', `${opts.base}..${opts.ref}`]))
    .split('\n')
    .filter(Boolean);
  if (shas.length !== STORY.length)
    throw new Error(`expected ${STORY.length} story commits on ${opts.ref}, found ${shas.length}`);
  return shas.map((sha, i) => ({ sha, subject: STORY[i].subject, role: STORY[i].role }));
}
