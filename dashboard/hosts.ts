/**
 * The Host names the dashboard answers to. A web page on a domain its
 * author controls can re-point that domain at 127.0.0.1 (DNS rebinding) and
 * then read a local dashboard as same-origin; the browser still sends the
 * attacker's name in Host, so answering only to known names stops it.
 * Addresses (127.0.0.1, [::1], 10.0.0.5) cannot be re-pointed and are
 * always accepted, as is `localhost`.
 */
import { isIP } from 'node:net';

// host, or host:port, or [v6]:port: nothing else may appear in a Host header
const HOST = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/;

/** The name of a Host header value, lower case, without port or trailing dot; undefined when malformed. */
export function hostName(header: string): string | undefined {
  const m = HOST.exec(header.trim());
  if (!m) return undefined;
  if (m[1] !== undefined) return isIP(m[1]) === 6 ? m[1].toLowerCase() : undefined;
  return m[2].toLowerCase().replace(/\.$/, '');
}

/** The name of an allow-list entry: a bare name ("ci.example.org") or a URL ("https://ci.example.org/"). */
function entryName(entry: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
    try {
      return new URL(entry).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    } catch {
      return undefined;
    }
  }
  return hostName(entry);
}

/** A check of a request's Host header against `entries` (names or URLs; undefined ones are skipped). */
export function hostAllowList(entries: (string | undefined)[]): (header: string | undefined) => boolean {
  const names = new Set(['localhost']);
  for (const e of entries) {
    const n = e === undefined ? undefined : entryName(e);
    if (n) names.add(n);
  }
  return (header) => {
    // HTTP/1.0 clients may send none; nothing can be rebound without a name
    if (header === undefined) return true;
    const name = hostName(header);
    return name !== undefined && (isIP(name) !== 0 || names.has(name));
  };
}
