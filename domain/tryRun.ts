/**
 * `bootfarm try`: a developer's own kernel (and ramdisk and dtb) booted on
 * a lab's platform through the same lab adapters as the pipeline's boots,
 * optionally with a test plan. The files are uploaded to the artifact store
 * with a developer token (scope `try`, rate-limited per developer); the
 * `tryKernel` workflow boots them and returns the boot's result.
 *
 * Pure: workflows import the types and ids from here.
 */
import { z } from 'zod';
import type { ArtifactRef, BootResult, BootTarget } from './types';

/** The config's `try` section. */
export const trySchema = z.strictObject({
  /** largest upload (kernel, ramdisk or dtb), in MiB */
  maxUploadMb: z.number().int().min(1).max(1024).default(64),
  /** tries a developer may start per hour */
  perHour: z.number().int().min(1).max(1000).default(10),
  /** uploads a developer may make per hour */
  uploadsPerHour: z.number().int().min(1).max(10_000).default(30),
});
export type TryConfig = z.output<typeof trySchema>;

/** A developer's name as tokens and keys carry it. */
export const DEVELOPER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/;

export type TryFileRole = 'kernel' | 'ramdisk' | 'dtb';
export const TRY_FILE_ROLES: readonly TryFileRole[] = ['kernel', 'ramdisk', 'dtb'];

/** What a developer asks for (REST `POST /api/try`, `bootfarm try`): uploaded files by key, a platform. */
export interface TryRequest {
  kernel: string;
  ramdisk?: string;
  dtb?: string;
  platform: string;
  lab?: string;
  plan?: string;
}

/** The tryKernel workflow's input: everything resolved and checked before it starts. */
export interface TryInput {
  developer: string;
  /** the kernel's sha256 (hex): a try has no commit */
  kernelSha256: string;
  arch: string;
  target: BootTarget;
  kernel: ArtifactRef;
  ramdisk?: ArtifactRef;
  dtb?: ArtifactRef;
  /** prepended to the lab's task queue (isolated tests) */
  taskQueuePrefix?: string;
}

export interface TryResult {
  developer: string;
  platform: string;
  lab: string;
  /** the boot: status, message, console log (BootResult.log), the plan's results (BootResult.tests) */
  boot: BootResult;
}

/** Ids of try runs: the developer's name and a random part the starter picks. */
export function tryWorkflowId(developer: string, nonce: string): string {
  return `try:${developer}:${nonce}`;
}
