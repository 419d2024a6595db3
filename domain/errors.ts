/**
 * The one list of activity error types that retrying cannot fix. Workflows
 * put NON_RETRYABLE_ERROR_TYPES into their retry policies; activities throw
 * through `nonRetryable()` so the failure is recorded at once with a message
 * that names what was wrong. Everything else an activity throws is an
 * infrastructure error and is retried with backoff.
 *
 * No I/O here: workflow code imports this module.
 */
import { ApplicationFailure } from '@temporalio/common';

export const ErrorType = {
  /** a name, ref, URL or request field failed validation */
  invalidInput: 'BfInvalidInput',
  /** the tree URL is not a repository that can be fetched (no such path, 404, access denied) */
  repositoryUnavailable: 'BfRepositoryUnavailable',
  /** the branch, tag or commit does not exist in the tree */
  unknownRevision: 'BfUnknownRevision',
  /** an artifact key that is not in the store (thrown as a plain Error by the stores) */
  artifactNotFound: 'ArtifactNotFoundError',
  /** a name rejected by domain/names.ts (thrown as a plain Error) */
  invalidName: 'InvalidNameError',
} as const;

/** Retryable types, named so logs and the Web UI say what kind of infrastructure failed. */
export const RetryableErrorType = {
  /** a git command failed for a reason that may pass (network, server, lock) */
  gitTransient: 'BfGitTransient',
  /** the builder could not run the build (disk full, toolchain missing, make killed) */
  buildInfra: 'BfBuildInfra',
} as const;

export type NonRetryableErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export const NON_RETRYABLE_ERROR_TYPES: NonRetryableErrorType[] = Object.values(ErrorType);

export function nonRetryable(type: NonRetryableErrorType, message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, cause });
}

export function retryable(
  type: (typeof RetryableErrorType)[keyof typeof RetryableErrorType],
  message: string,
  cause?: Error,
): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false, cause });
}

/** True for an error that retrying will not fix (by its ApplicationFailure flag or its type/name). */
export function isNonRetryable(err: unknown): boolean {
  if (err instanceof ApplicationFailure)
    return err.nonRetryable || (NON_RETRYABLE_ERROR_TYPES as string[]).includes(err.type ?? '');
  return err instanceof Error && (NON_RETRYABLE_ERROR_TYPES as string[]).includes(err.name);
}
