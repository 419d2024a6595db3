/**
 * Recipients taken from commits (a culprit's author and trailers) are
 * attacker-controlled: git accepts `user.email='dev@k.test, list@victim.test'`
 * and a commit may carry 500 Signed-off-by lines. Each entry is parsed with
 * a real address parser and must be exactly one plain mailbox; the valid
 * ones are deduplicated and capped; every entry left out is named with why,
 * so the report can say who was not mailed.
 */
import addressparser from 'nodemailer/lib/addressparser';

export interface NotMailed {
  /** the entry as the commit wrote it (clipped) */
  entry: string;
  reason: string;
}

export interface RecipientChoice {
  /** addresses to mail, in the order the entries came */
  chosen: string[];
  notMailed: NotMailed[];
}

/** Recipients a culprit's commit may add beyond the tree's list, by default. */
export const DEFAULT_MAX_COMMIT_RECIPIENTS = 10;

const MAX_ENTRY_SHOWN = 200;
// dot-atom local part and a domain of at least two labels: what a kernel contributor's address looks like
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

const clip = (s: string) => (s.length > MAX_ENTRY_SHOWN ? `${s.slice(0, MAX_ENTRY_SHOWN - 1)}…` : s);

/** The one address an entry ("Ann <ann@example.org>" or "ann@example.org") names, or why it names none. */
export function singleMailbox(entry: string): { address: string } | { reason: string } {
  if (CONTROL.test(entry)) return { reason: 'has a control character' };
  if (entry.length > 1000) return { reason: 'is longer than 1000 characters' };
  const parsed = addressparser(entry);
  if (parsed.length === 0) return { reason: 'names no address' };
  if (parsed.length > 1) return { reason: `names ${parsed.length} addresses, not one` };
  const [one] = parsed;
  if ('group' in one) return { reason: 'is an address group' };
  if (one.name.includes('@')) return { reason: 'is ambiguous (an address where the name goes)' };
  const address = one.address;
  const at = address.lastIndexOf('@');
  if (at < 0) return { reason: 'names no address' };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (address.length > 254 || local.length > 64 || !LOCAL.test(local) || !DOMAIN.test(domain))
    return { reason: 'is not a valid address' };
  return { address };
}

/**
 * The entries' addresses, one mailbox each, without those in `exclude` (the
 * tree's list, mailed anyway) or repeated, at most `max`.
 */
export function chooseRecipients(entries: string[], opts: { max: number; exclude?: string[] }): RecipientChoice {
  const seen = new Set((opts.exclude ?? []).map((a) => a.toLowerCase()));
  const chosen: string[] = [];
  const notMailed: NotMailed[] = [];
  for (const entry of entries) {
    const mailbox = singleMailbox(entry);
    if ('reason' in mailbox) {
      notMailed.push({ entry: clip(entry), reason: mailbox.reason });
      continue;
    }
    const key = mailbox.address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    if (chosen.length >= opts.max) notMailed.push({ entry: clip(entry), reason: `beyond the cap of ${opts.max}` });
    else chosen.push(mailbox.address);
  }
  return { chosen, notMailed };
}
