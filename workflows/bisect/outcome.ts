/**
 * What a build-boot result means for a bisection step. A build failure says
 * nothing about the boot regression (skip); an infrastructure error or an
 * offline lab says nothing about the kernel at all (retry, then skip).
 */
import type { BootResult, BootTarget, BuildBootResult, BuildStatus } from '../../domain/types';
import type { Status } from '../../domain/status';
import type { StepVerdict } from '../../domain/bisect';

export interface AttemptOutcome {
  /** `retry`: the infrastructure failed; another attempt may decide */
  verdict: StepVerdict | 'retry';
  build: BuildStatus | 'not-run';
  boot?: Status;
  logKey?: string;
  message: string;
}

export function bootsOf(result: BuildBootResult, target: BootTarget): BootResult[] {
  return result.boots.filter((b) => b.platform === target.platform.name && b.lab === target.lab.name);
}

export function attemptOutcome(result: BuildBootResult, target: BootTarget): AttemptOutcome {
  const build = result.build.status;
  if (build === 'fail') {
    const first = result.build.errorLines[0];
    return { verdict: 'skip', build, message: `build failed${first ? `: ${first}` : ''}` };
  }
  if (build === 'infra-error')
    return { verdict: 'retry', build, message: `build infra-error: ${result.build.message ?? 'builder failed'}` };
  const [boot] = bootsOf(result, target);
  if (!boot) return { verdict: 'retry', build, message: `no boot on ${target.platform.name} in ${target.lab.name}` };
  const base = { build, boot: boot.status, logKey: boot.log?.key, message: boot.message };
  switch (boot.status) {
    case 'pass':
      return { ...base, verdict: 'good' };
    case 'fail':
      return { ...base, verdict: 'bad' };
    case 'skip':
      return { ...base, verdict: 'skip' };
    case 'infra-error':
    case 'offline':
      return { ...base, verdict: 'retry', message: `boot ${boot.status}: ${boot.message}` };
  }
}

/** The outcome when the child workflow itself failed (an orchestration error, never the kernel's). */
export function failedChildOutcome(message: string): AttemptOutcome {
  return { verdict: 'retry', build: 'not-run', message: `build-boot failed: ${message}` };
}
