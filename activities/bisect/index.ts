/**
 * The bisection activities (task queue `bootfarm`): the commit graph and the
 * culprit from the tree's mirror, the revert commit, the `bisections` rows,
 * and the report, sent once per Message-ID through the report mailer.
 */
import type { ArtifactStore } from '../../plumbing/store/types';
import type { BisectActivities, BisectReportRequest } from '../../domain/bisect';
import { reportMessageId } from '../../domain/reports';
import { ensureMirror, mirrorLockPath } from '../../plumbing/git/mirror';
import { createMailer, type MailDeps } from '../report/mailer';
import { computeCandidates } from './candidates';
import { checkGraph } from './graphCheck';
import { readCulpritInfo } from './culprit';
import { resolveBisectRange } from './range';
import { createRevert } from './revert';
import { createBisectRecords } from './records';
import { bisectReportContent, logExcerpt } from './report';

export interface BisectDeps extends MailDeps {
  /** where the trees' bare mirrors live (the git activities' mirror dir) */
  mirrorDir: string;
  store: ArtifactStore;
}

const DEFAULT_FAILURE_PATTERNS = ['Kernel panic', 'Oops:', 'BUG:', 'No working init found'];

export function createBisectActivities(deps: BisectDeps): BisectActivities {
  const mailer = createMailer(deps);
  /** the mirror, fetched only when it lacks `want` */
  const mirror = (tree: string, url: string, want: string) => ensureMirror(deps.mirrorDir, tree, url, { want });
  const artifactBase = (deps.artifactBaseUrl ?? `${deps.dashboardUrl.replace(/\/+$/, '')}/artifacts`).replace(
    /\/+$/,
    '',
  );

  async function excerpt(req: BisectReportRequest): Promise<string[]> {
    if (!req.failingLogKey) return [];
    const log = await deps.store.get(req.failingLogKey).catch(() => null);
    return log ? logExcerpt(log.toString('utf8'), req.failurePatterns ?? DEFAULT_FAILURE_PATTERNS) : [];
  }

  return {
    async bisectRange({ tree, url, good, bad }) {
      await mirror(tree, url, bad);
      return resolveBisectRange(await mirror(tree, url, good), { good, bad });
    },

    async bisectCandidates({ tree, url, ...query }) {
      return computeCandidates(await mirror(tree, url, query.bad), query);
    },

    async bisectGraphCheck({ tree, url, good, bad }) {
      return checkGraph(await mirror(tree, url, bad[0] ?? good[0]), { good, bad });
    },

    async culpritInfo({ tree, url, sha }) {
      return readCulpritInfo(await mirror(tree, url, sha), sha);
    },

    async prepareRevert({ tree, url, bad, culprit }) {
      return createRevert(await mirror(tree, url, bad), bad, culprit, mirrorLockPath(deps.mirrorDir, tree));
    },

    ...createBisectRecords(deps),

    async sendBisectReport(req) {
      const culpritSha = req.verdict.culprit?.sha;
      const culprit = culpritSha
        ? await readCulpritInfo(await mirror(req.tree, req.url, culpritSha), culpritSha)
        : undefined;
      const content = await bisectReportContent({
        req,
        culprit,
        logExcerpt: await excerpt(req),
        logUrl: req.failingLogKey ? `${artifactBase}/${req.failingLogKey}` : null,
        pageUrl: `${deps.dashboardUrl.replace(/\/+$/, '')}/bisections/${req.bisectionId}`,
      });
      const messageId = reportMessageId(req.workflowId, 'bisect');
      const delivery = await mailer.deliverOnce({
        messageId,
        kind: 'bisect',
        tree: req.tree,
        branch: req.branch,
        sha: culpritSha ?? req.range.bad,
        subject: content.subject,
        from: content.from,
        to: content.to,
        cc: content.cc,
        text: content.text,
        html: content.html,
      });
      return { messageId, status: delivery.status, recipients: [...content.to, ...content.cc] };
    },
  };
}
