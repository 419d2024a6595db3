/** A process that clones a tree's mirror (ensureMirror), to be killed mid-way by test/retention/local.test.ts. */
import { ensureMirror } from '../../../plumbing/git/mirror';

const [mirrorDir, tree, url] = process.argv.slice(2);
ensureMirror(mirrorDir, tree, url).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  },
);
