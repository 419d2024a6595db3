import { TimeoutFailure } from '@temporalio/workflow';
import { decodeTimeoutType, type TimeoutType } from '@temporalio/common';
import { shortMessage } from '../domain/revisionReport';

const timeoutReason = (type: TimeoutType | undefined) =>
  `${(type ?? 'activity').toLowerCase().replace(/_/g, '-')} timeout`;

/**
 * What actually went wrong in a Temporal failure chain, on one line: an
 * activity or child failure says only that it failed; the reason is its
 * innermost cause (an application error's message, or which timeout fired).
 */
export function failureReason(err: unknown): string {
  let e: Error = err instanceof Error ? err : new Error(String(err));
  while (e.cause instanceof Error) e = e.cause;
  if (e instanceof TimeoutFailure) return timeoutReason(e.timeoutType);
  return shortMessage(e.message) || e.name;
}

/**
 * How the attempt before this one ended, when a retried activity then timed
 * out (a retry no worker took): the server gives it as the timeout's cause,
 * which the SDK keeps only in the raw failure. Undefined for a first attempt.
 */
export function earlierAttemptReason(err: TimeoutFailure): string | undefined {
  const cause = err.failure?.cause;
  if (!cause) return undefined;
  if (cause.timeoutFailureInfo) return timeoutReason(decodeTimeoutType(cause.timeoutFailureInfo.timeoutType));
  return shortMessage(cause.message ?? '') || 'a failure';
}
