/**
 * Starting a `bootfarm try`: the developer's request resolved against the
 * config (platform, lab, test plan) and checked before anything boots: the
 * files must be the developer's own uploads of the right kind, the kernel an
 * image for the platform's arch (by its header), the plan one that can run
 * there, and the developer under the rate limit. Then the tryKernel
 * workflow starts.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import type { BootfarmConfig } from '../../domain/config';
import { taskQueues } from '../../domain/ids';
import { dtbProblem, kernelImageProblem, KERNEL_HEAD_BYTES, ramdiskProblem } from '../../domain/kernelImage';
import { labTarget } from '../../domain/pipelineSpec';
import { bootTests, testPlanSpecs } from '../../domain/testPlans';
import { tryWorkflowId, type TryFileRole, type TryInput, type TryRequest } from '../../domain/tryRun';
import type { BootTarget } from '../../domain/types';
import { UserError } from '../../domain/userError';
import { tryAdmin, type TryUpload } from '../db/tryAdmin';
import type { ArtifactStore } from '../store/types';

/** A request `try` refuses, naming the field at fault. */
export class TryRequestError extends UserError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'TryRequestError';
  }
}

/** The first bytes of a stored file. */
export async function storedHead(store: ArtifactStore, key: string, bytes = KERNEL_HEAD_BYTES): Promise<Buffer> {
  const stream: Readable = await store.getStream(key);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= bytes) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

export interface TryStarterDeps {
  client: Client;
  config: BootfarmConfig;
  store: ArtifactStore;
  sql: Sql;
  /** prepended to the lab's task queue and the orchestrator's (isolated tests) */
  taskQueuePrefix?: string;
}

/** The boot target of a try: the platform on the lab asked for (or the first that has it), with the plan named. */
export function tryTarget(config: BootfarmConfig, req: Pick<TryRequest, 'platform' | 'lab' | 'plan'>): BootTarget {
  const platform = config.platforms.find((p) => p.name === req.platform);
  if (!platform)
    throw new TryRequestError(
      'platform',
      `unknown platform ${JSON.stringify(req.platform)} (platforms: ${config.platforms.map((p) => p.name).join(', ') || 'none'})`,
    );
  const labs = config.labs.filter((l) => l.platforms.some((p) => p.name === platform.name));
  const lab = req.lab ? labs.find((l) => l.name === req.lab) : labs[0];
  if (!lab)
    throw new TryRequestError(
      'lab',
      req.lab && config.labs.some((l) => l.name === req.lab)
        ? `lab ${req.lab} has no platform ${platform.name} (labs with it: ${labs.map((l) => l.name).join(', ') || 'none'})`
        : `unknown lab ${JSON.stringify(req.lab)}`,
    );
  if (!req.plan) return { platform, lab: labTarget(lab) };
  const [plan] = testPlanSpecs(config, [req.plan]);
  if (!plan)
    throw new TryRequestError(
      'plan',
      `unknown test plan ${JSON.stringify(req.plan)} (testPlans: ${config.testPlans.map((p) => p.name).join(', ') || 'none'})`,
    );
  if (plan.platforms && !plan.platforms.includes(platform.name))
    throw new TryRequestError(
      'plan',
      `plan ${plan.name} does not run on ${platform.name} (its platforms: ${plan.platforms.join(', ')})`,
    );
  const missing = plan.suites.filter((s) => !s.arches.includes(platform.arch));
  if (missing.length)
    throw new TryRequestError(
      'plan',
      `plan ${plan.name}: suite ${missing.map((s) => s.name).join(', ')} does not exist for ${platform.arch} (platform ${platform.name})`,
    );
  // a try has no build config: the plan's configs filter does not apply
  const tests = bootTests([{ ...plan, configs: undefined }], { name: 'try', arch: platform.arch }, platform);
  return { platform, lab: labTarget(lab), ...(tests ? { tests } : {}) };
}

const CHECKS: Record<TryFileRole, (head: Buffer, arch: string) => string | undefined> = {
  kernel: kernelImageProblem,
  ramdisk: (head) => ramdiskProblem(head),
  dtb: (head) => dtbProblem(head),
};

/** Starts tryKernel for the developer, or throws TryRequestError / RateLimitedError having started nothing. */
export function tryStarter(deps: TryStarterDeps) {
  const admin = tryAdmin(deps.sql);
  return async (developer: string, req: TryRequest): Promise<{ workflowId: string }> => {
    const target = tryTarget(deps.config, req);
    const arch = target.platform.arch;
    const files: Partial<Record<TryFileRole, TryUpload>> = {};
    for (const role of ['kernel', 'ramdisk', 'dtb'] as const) {
      const key = req[role];
      if (key === undefined) continue;
      const upload = await admin.upload(developer, key);
      if (!upload) throw new TryRequestError(role, `${key} is not one of your uploads`);
      if (upload.role !== role)
        throw new TryRequestError(role, `${key} was uploaded as a ${upload.role}, not a ${role}`);
      const problem = CHECKS[role](await storedHead(deps.store, key), arch);
      if (problem) throw new TryRequestError(role, `${role} ${key}: ${problem} (platform ${target.platform.name})`);
      files[role] = upload;
    }
    const kernel = files.kernel!;
    await admin.canStart(developer, deps.config.try.perHour);
    const workflowId = tryWorkflowId(developer, randomBytes(6).toString('hex'));
    const ref = (u: TryUpload | undefined) => (u ? { key: u.key, size: u.size } : undefined);
    const input: TryInput = {
      developer,
      kernelSha256: kernel.sha256,
      arch,
      target,
      kernel: ref(kernel)!,
      ...(files.ramdisk ? { ramdisk: ref(files.ramdisk) } : {}),
      ...(files.dtb ? { dtb: ref(files.dtb) } : {}),
      ...(deps.taskQueuePrefix ? { taskQueuePrefix: deps.taskQueuePrefix } : {}),
    };
    await admin.recordRun({
      developer,
      workflowId,
      platform: target.platform.name,
      lab: target.lab.name,
      plan: req.plan,
      kernelKey: kernel.key,
    });
    await deps.client.workflow.start('tryKernel', {
      taskQueue: (deps.taskQueuePrefix ?? '') + taskQueues.orchestrator,
      workflowId,
      args: [input],
      staticSummary: `try by ${developer} on ${target.platform.name} (${target.lab.name})${req.plan ? `, plan ${req.plan}` : ''}`,
    });
    return { workflowId };
  };
}
