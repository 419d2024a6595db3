/**
 * A tree URL as it may be shown: without the user name and password a
 * configured URL may carry (`https://user:token@git.example.org/linux.git`).
 * Pages, the API, KCIDB exports and mails only ever get this form.
 */
const SCHEME_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i;

export function publicTreeUrl(url: string): string {
  return url.replace(SCHEME_USERINFO, '$1');
}
