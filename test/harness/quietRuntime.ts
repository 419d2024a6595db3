import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker state chatter drowns test output; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  /* already installed in this worker process */
}
