import { reportMessageId } from '../../domain/reports';
import { emlFileName } from '../../activities/report/mailer';
import { workflowIds } from '../../domain/ids';

describe('report Message-IDs', () => {
  const sha = 'abcdef0123456789abcdef0123456789abcdef01';

  it('are derived from the workflow id and the report kind, the same on every call', () => {
    const id = reportMessageId(workflowIds.revision('demo', 'master', sha), 'build');
    expect(id).toMatch(/^<build\.rev-demo-master-abcdef0123456789abcdef0123456789abcdef01\.[0-9a-f]{8}@bootfarm>$/);
    expect(reportMessageId(workflowIds.revision('demo', 'master', sha), 'build')).toBe(id);
    expect(reportMessageId(workflowIds.revision('demo', 'master', sha), 'boot')).not.toBe(id);
  });

  it('stay apart when flattening the readable part makes two workflow ids look alike', () => {
    const a = reportMessageId(workflowIds.revision('a-b', 'c', sha), 'boot');
    const b = reportMessageId(workflowIds.revision('a', 'b-c', sha), 'boot');
    expect(a.replace(/\.[0-9a-f]{8}@/, '@')).toBe(b.replace(/\.[0-9a-f]{8}@/, '@'));
    expect(a).not.toBe(b);
  });

  it('name an outbox file the dashboard lists, even for a long branch with slashes', () => {
    const id = reportMessageId(workflowIds.revision('stable', `for-next/${'x'.repeat(120)}`, sha), 'boot-followup-1');
    const name = emlFileName(id);
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._@+=,-]{0,199}$/);
    expect(name.endsWith('@bootfarm.eml')).toBe(true);
  });
});
