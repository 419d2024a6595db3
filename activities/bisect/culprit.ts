/**
 * Who is told about a culprit: its author and the people its Signed-off-by,
 * Reviewed-by and Acked-by trailers name.
 */
import type { CulpritInfo } from '../../domain/bisect';
import { SHA_PATTERN, assertName } from '../../domain/names';
import { git } from './gitExec';
import { describeCommit } from './range';

const RECIPIENT_TRAILERS = ['signed-off-by', 'reviewed-by', 'acked-by'];
const ADDRESS = /<([^<>\s@]+@[^<>\s@]+)>|(?:^|\s)([^<>\s@]+@[^<>\s@]+\.[A-Za-z]{2,})(?=\s|$)/;

/** The e-mail address in a trailer value ("Ann Dev <ann@example.org>" or a bare address), if any. */
export function trailerAddress(value: string): string | undefined {
  const m = ADDRESS.exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Addresses from the recipient trailers of `git log --format=%(trailers:only,unfold)` output, author excluded. */
export function recipientAddresses(trailers: string, authorEmail: string): string[] {
  const seen = new Set([authorEmail.toLowerCase()]);
  const out: string[] = [];
  for (const line of trailers.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || !RECIPIENT_TRAILERS.includes(line.slice(0, colon).trim().toLowerCase())) continue;
    const address = trailerAddress(line.slice(colon + 1).trim());
    if (address && !seen.has(address.toLowerCase())) {
      seen.add(address.toLowerCase());
      out.push(address);
    }
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
    trailerAddresses: recipientAddresses(trailers ?? '', authorEmail),
    describe,
    parents: parents.split(' ').filter(Boolean),
  };
}
