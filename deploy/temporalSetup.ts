/**
 * A deployment's one-shot Temporal setup (docker-compose.yml's
 * `temporal-setup`): registers the namespace and Bootfarm's search
 * attributes through the first node that answers and waits until every
 * node named accepts queries on them. Idempotent. The hosts deployment does
 * the same through startTemporalCluster.
 *
 *   node --require tsx/cjs deploy/temporalSetup.ts [--namespace default] ADDRESS...
 */
import { registerBootfarmNamespace } from '../stack/temporalCluster';
import { waitFor } from '../stack/ports';
import { Connection } from '@temporalio/client';

async function main() {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--namespace');
  const namespace = i >= 0 ? argv.splice(i, 2)[1] : 'default';
  const addresses = argv;
  if (!addresses.length || !namespace) throw new Error('usage: temporalSetup.ts [--namespace NAME] HOST:PORT...');
  // the nodes may still be starting: wait for each to answer (5 minutes at most)
  for (const address of addresses)
    await waitFor(
      `Temporal at ${address}`,
      async () => {
        const c = await Connection.connect({ address, connectTimeout: 2000 });
        await c.workflowService.getSystemInfo({}).finally(() => c.close());
        return true;
      },
      300_000,
      2000,
    );
  await registerBootfarmNamespace(addresses, namespace);
  process.stdout.write(
    `temporal-setup: namespace ${namespace} with Bootfarm's search attributes on ${addresses.join(', ')}\n`,
  );
}

main().catch((e: Error) => {
  process.stderr.write(`temporal-setup: ${e.message.split('\n')[0]}\n`);
  process.exit(1);
});
