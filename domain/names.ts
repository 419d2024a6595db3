/**
 * Names that can reach a command line (tree, branch, config, arch, defconfig,
 * platform, lab) must match a strict pattern. They are always passed as argv
 * elements, never through a shell, but the pattern also keeps them out of
 * option parsing (no leading '-') and out of path traversal.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
/** Git branch names may contain '/', but not '..' or a leading '-'. */
export const BRANCH_PATTERN = /^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9][A-Za-z0-9._/+-]{0,127}$/;
export const SHA_PATTERN = /^[0-9a-f]{7,40}$/;

export class InvalidNameError extends Error {
  constructor(what: string, value: string, pattern: RegExp) {
    super(`invalid ${what} ${JSON.stringify(value)}: expected ${pattern.source}`);
    this.name = 'InvalidNameError';
  }
}

export function assertName(what: string, value: string, pattern: RegExp = NAME_PATTERN): string {
  if (!pattern.test(value)) throw new InvalidNameError(what, value, pattern);
  return value;
}
