/**
 * Who a culprit's commit names: its author and the people its Signed-off-by,
 * Reviewed-by and Acked-by trailers name, as written (untrusted: the report
 * parses and caps them, see activities/report/recipients.ts).
 */
import type { CulpritInfo } from '../../domain/bisect';
import { SHA_PATTERN, assertName } from '../../domain/names';
import { git } from './gitExec';
import { describeCommit } from './range';

const RECIPIENT_TRAILERS = ['signed-off-by', 'reviewed-by', 'acked-by'];
/** More trailers than any real commit has; the report's cap applies long before. */
const MAX_TRAILER_ENTRIES = 1000;

/** The values of the recipient trailers in `git log --format=%(trailers:only,unfold)` output, as written. */
export function recipientTrailers(trailers: string): string[] {
  const out: string[] = [];
  for (const line of trailers.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || !RECIPIENT_TRAILERS.includes(line.slice(0, colon).trim().toLowerCase())) continue;
    const value = line.slice(colon + 1).trim();
    if (value && out.length < MAX_TRAILER_ENTRIES) out.push(value);
  }
  return out;
}

export async function readCulpritInfo(gitDir: string, sha: string): Promise<CulpritInfo> {
  assertName('culprit commit', sha, SHA_PATTERN);
  const out = await git(gitDir, [
    'log',
    '-1',
    '--format=%H%x00%s%x00%an%x00%ae%x00%P%x00%(trailers:only,unfold)',
    sha,
    '--',
  ]);
  const [full, subject, author, authorEmail, parents, trailers] = out.split('\0');
  const describe = await describeCommit(gitDir, full);
  return {
    sha: full,
    subject,
    author,
    authorEmail,
    trailerEntries: recipientTrailers(trailers ?? ''),
    describe,
    parents: parents.split(' ').filter(Boolean),
  };
}
