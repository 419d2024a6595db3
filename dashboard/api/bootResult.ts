/**
 * A boot's result as the API answers it (an API lab's post echoes the result
 * it delivered; a `bootfarm try` run carries its boot's): the zod schemas of
 * domain/types.ts BootResult and domain/testResults.ts TestSummary, held to
 * those types both ways below, so that neither changes without the other.
 */
import { z } from 'zod';
import { STATUSES } from '../../domain/status';
import { TEST_STATUSES, type TestSummary } from '../../domain/testResults';
import type { BootResult } from '../../domain/types';

const testStatus = z.enum(TEST_STATUSES);

export const artifactRefSchema = z
  .strictObject({ key: z.string().describe('artifact store key: GET /artifacts/{key}'), size: z.number().int() })
  .meta({ id: 'ArtifactRef' });

export const testSummarySchema = z
  .strictObject({
    counts: z.record(testStatus, z.number().int()).describe('results per status, suites and cases alike'),
    results: artifactRefSchema.optional().describe('the results file (every result, with its log lines)'),
    notPassing: z
      .array(
        z.strictObject({
          path: z.string(),
          plan: z.string(),
          status: testStatus.exclude(['PASS']),
          reason: z.string().optional(),
        }),
      )
      .describe('the results that did not pass, in order (the first 100)'),
    notPassingOmitted: z.number().int().optional().describe('how many more did not pass'),
    focus: z.record(z.string(), testStatus).optional().describe("the status of each of the plan's focus paths"),
    problems: z.array(z.string()).optional().describe("what was wrong with the tests' output, the first few"),
  })
  .meta({ id: 'TestSummary' });

export const bootResultSchema = z
  .strictObject({
    status: z.enum(STATUSES),
    platform: z.string(),
    lab: z.string(),
    durationMs: z.number(),
    log: artifactRefSchema.optional().describe('the console log'),
    message: z.string().describe('the line that decided the verdict'),
    attempts: z.number().int().optional(),
    run: z.number().int().optional(),
    tests: testSummarySchema.optional().describe("the results of the boot's test plan"),
  })
  .meta({ id: 'BootResult' });

// The schemas and the domain's types are one shape: each assigns to the other, with the same fields.
type Assigns<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Assigns<A, B> extends true ? Assigns<keyof A, keyof B> : false;
const sameBootResult: Same<z.output<typeof bootResultSchema>, BootResult> = true;
const sameTestSummary: Same<z.output<typeof testSummarySchema>, TestSummary> = true;
void sameBootResult;
void sameTestSummary;
