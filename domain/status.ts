/**
 * The fixed result words (docs/architecture.md). `fail` blames the kernel; `infra-error`
 * blames the lab or builder and is never counted against a commit.
 */
export const STATUSES = ['pass', 'fail', 'infra-error', 'offline', 'skip'] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses that say something about the kernel itself. */
export function isVerdict(status: Status): status is 'pass' | 'fail' {
  return status === 'pass' || status === 'fail';
}
