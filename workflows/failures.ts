import { TimeoutFailure } from '@temporalio/workflow';
import { shortMessage } from '../common/revisionReport';

/**
 * What actually went wrong in a Temporal failure chain, on one line: an
 * activity or child failure says only that it failed; the reason is its
 * innermost cause (an application error's message, or which timeout fired).
 */
export function failureReason(err: unknown): string {
  let e: Error = err instanceof Error ? err : new Error(String(err));
  while (e.cause instanceof Error) e = e.cause;
  if (e instanceof TimeoutFailure) return `${(e.timeoutType ?? 'activity').toLowerCase().replace(/_/g, '-')} timeout`;
  return shortMessage(e.message) || e.name;
}
