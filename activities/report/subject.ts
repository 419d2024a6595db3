import type { ReportKind } from '../../domain/reports';
import type { ReportModel } from './model';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Subjects in kernelci's style, counts first:
 * `next/master boot: 10 boots: 1 failed, 8 passed with 1 offline (next-20261127)`
 * `mainline/master build: 120 builds: 2 failed, 118 passed, 5 errors, 30 warnings (v6.1-rc3-12-gabcdef012345)`
 * Counts that are zero after "passed" are left out.
 */
export function reportSubject(model: ReportModel, kind: ReportKind): string {
  const head = `${model.tree}/${model.branch} ${kind}:`;
  const tail = `(${model.describe})`;
  if (kind === 'build') {
    const b = model.builds;
    const parts = [`${b.fail} failed`, `${b.pass} passed`];
    if (b.infraError) parts.push(`${b.infraError} infra-error`);
    if (b.pending) parts.push(`${b.pending} pending`);
    parts.push(plural(b.errors, 'error'), plural(b.warnings, 'warning'));
    return `${head} ${plural(b.total, 'build')}: ${parts.join(', ')} ${tail}`;
  }
  const b = model.boots;
  const extra = [
    b.offline ? `${b.offline} offline` : '',
    b.infraError ? `${b.infraError} infra-error` : '',
    b.skip ? `${b.skip} skipped` : '',
    b.pending ? `${b.pending} pending` : '',
    b.labSpecific ? `${b.labSpecific} lab-specific` : '',
  ].filter(Boolean);
  const counts = `${b.fail} failed, ${b.pass} passed${extra.length ? ` with ${extra.join(', ')}` : ''}`;
  return `${head} ${plural(b.total, 'boot')}: ${counts} ${tail}`;
}
