/**
 * The LAVA adapter's pure decisions: how a finished job maps to a verdict,
 * and whether a retried boot follows the job its crashed attempt left in
 * LAVA. test/slow/lava.test.ts runs both against a real LAVA server.
 */
import { platformSchema } from '../../domain/config';
import { judgeLavaJob, lavaBootMs, resumeDecision } from '../../activities/labs/lava';
import type { LavaTestCase } from '../../activities/labs/lavaApi';

const platform = platformSchema.parse({ name: 'qemu-x86_64', arch: 'x86_64' });
const lavaJobCase = (metadata: Record<string, unknown>): LavaTestCase => ({
  suite: 'lava',
  name: 'job',
  result: 'fail',
  metadata,
});

describe('judgeLavaJob', () => {
  it('a Complete job passes on the boot marker and fails on a failed test case or a panic', () => {
    const ok = judgeLavaJob({ id: 1, health: 'Complete' }, [], ['Linux version 6.1', 'BOOTFARM: boot ok'], platform);
    expect(ok.status).toBe('pass');
    const failedCase: LavaTestCase = { suite: 'boot', name: 'smoke', result: 'fail', metadata: {} };
    expect(judgeLavaJob({ id: 1, health: 'Complete' }, [failedCase], ['BOOTFARM: boot ok'], platform)).toEqual({
      status: 'fail',
      message: 'LAVA test case failed: boot/smoke',
    });
    const panic = judgeLavaJob(
      { id: 1, health: 'Complete' },
      [],
      ['Kernel panic - not syncing: Attempted to kill init!'],
      platform,
    );
    expect(panic).toMatchObject({ status: 'fail', message: expect.stringContaining('Kernel panic') });
  });

  it("the lab's own errors are infra-errors; a LAVA timeout after the console came alive is the kernel's", () => {
    const infra = judgeLavaJob(
      { id: 7, health: 'Incomplete' },
      [lavaJobCase({ error_type: 'Infrastructure', error_msg: 'Unable to download' })],
      ['Linux version 6.1'],
      platform,
    );
    expect(infra).toEqual({
      status: 'infra-error',
      message: 'LAVA job 7 Incomplete: Infrastructure: Unable to download',
    });
    const hung = judgeLavaJob(
      { id: 8, health: 'Incomplete' },
      [lavaJobCase({ error_type: 'LAVATimeout', error_msg: 'auto-login timed out' })],
      ['Linux version 6.1', 'Run /init as init process'],
      platform,
    );
    expect(hung.status).toBe('fail');
    const silent = judgeLavaJob(
      { id: 9, health: 'Incomplete' },
      [lavaJobCase({ error_type: 'LAVATimeout' })],
      [],
      platform,
    );
    expect(silent.status).toBe('infra-error');
    expect(judgeLavaJob({ id: 10, health: 'Canceled' }, [], [], platform).status).toBe('infra-error');
  });
});

describe('resumeDecision: a retried boot and the job its crashed attempt left in LAVA', () => {
  const last = (state: string) => ({ lavaJob: 42, state });

  it('follows a job still running or finished unseen, so the kernel is not booted twice', () => {
    expect(resumeDecision(last('Running'), { state: 'Running', health: 'Unknown' }, true)).toBe('follow');
    expect(resumeDecision(last('Running'), { state: 'Finished', health: 'Complete' }, true)).toBe('follow');
    expect(resumeDecision(last('Running'), { state: 'Finished', health: 'Incomplete' }, false)).toBe('follow');
  });

  it('follows a queued job whose files LAVA fetches from the store, not one whose files the dead worker served', () => {
    expect(resumeDecision(last('Submitted'), { state: 'Submitted', health: 'Unknown' }, false)).toBe('follow');
    expect(resumeDecision(last('Submitted'), { state: 'Scheduled', health: 'Unknown' }, true)).toBe(
      'cancel-and-resubmit',
    );
  });

  it('submits anew when the attempt saw the job end (it judged it) or the job was cancelled', () => {
    expect(resumeDecision(last('Finished'), { state: 'Finished', health: 'Incomplete' }, true)).toBe('resubmit');
    expect(resumeDecision(last('Running'), { state: 'Finished', health: 'Canceled' }, true)).toBe('resubmit');
    expect(resumeDecision(last('Running'), { state: 'Canceling', health: 'Unknown' }, true)).toBe('resubmit');
  });
});

describe('lavaBootMs', () => {
  it("is the board's time on the job by LAVA's clock, not its wait in LAVA's queue", () => {
    expect(lavaBootMs({ start_time: '2026-12-03T10:00:05.250Z', end_time: '2026-12-03T10:01:05.000Z' })).toBe(59_750);
    expect(lavaBootMs({ start_time: '2026-12-03T10:00:05+00:00', end_time: '2026-12-03T10:00:35+00:00' })).toBe(30_000);
  });

  it('is unknown when LAVA does not say, or says something impossible', () => {
    expect(lavaBootMs({ start_time: null, end_time: '2026-12-03T10:01:05Z' })).toBeNull();
    expect(lavaBootMs({ start_time: '2026-12-03T10:01:05Z', end_time: null })).toBeNull();
    expect(lavaBootMs({ start_time: 'soon', end_time: '2026-12-03T10:01:05Z' })).toBeNull();
    expect(lavaBootMs({ start_time: '2026-12-03T10:01:05Z', end_time: '2026-12-03T10:00:05Z' })).toBeNull();
  });
});
