import { syncConfig } from '../workflows/syncConfig';
import { keepHistory } from './replay/record';
import { createConfigActivities } from '../activities/pipeline/configRecords';
import { parseConfig } from '../plumbing/loadConfig';
import { freshDatabase, temporalClient, testWorker, uniqueId, type TestDatabase } from './harness/services';
import { testConfigYaml } from './support/testConfig';

const config = parseConfig(testConfigYaml());

describe('smoke: a real workflow on the real dev server with a real activity on real PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('records the configured tree, platform and lab and reads them back', async () => {
    const taskQueue = uniqueId('smoke-');
    const { worker, close } = await testWorker({ taskQueue, activities: createConfigActivities({ sql: db.sql }) });
    const { client, close: closeClient } = await temporalClient();
    try {
      const handle = await client.workflow.start(syncConfig, {
        taskQueue,
        workflowId: uniqueId('sync-'),
        args: [config],
      });
      const result = await worker.runUntil(handle.result());
      await keepHistory('syncConfig', handle);
      expect(result).toEqual({ trees: 1, platforms: 1, labs: 1 });
      const [tree] = await db.sql`select name, url from trees`;
      expect(tree).toEqual({ name: 'demo', url: '/srv/git/demo.git' });
      const [lab] = await db.sql`select name, adapter, platforms from labs`;
      expect(lab).toEqual({ name: 'local', adapter: 'qemu', platforms: [{ name: 'qemu-x86_64', capacity: 1 }] });
    } finally {
      await closeClient();
      await close();
    }
  });
});
