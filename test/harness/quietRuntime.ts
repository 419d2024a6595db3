import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker state chatter drowns test output; warnings and errors still show. Workers report themselves
// to Temporal every few seconds instead of every minute, so tests see a busy worker's heartbeat soon.
try {
  Runtime.install({ logger: new DefaultLogger('WARN'), workerHeartbeatInterval: '3s' });
} catch {
  /* already installed in this worker process */
}
