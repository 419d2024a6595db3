/**
 * bench/ktap: how fast domain/ktap.ts parses console output, whole and fed
 * in 4 KiB chunks as a lab streams it.
 *
 *   npx tsx bench/ktap.ts [--results 100000]
 *
 * Two synthetic consoles of the same number of results: kselftest's runner
 * (programs of 100 cases each, their KTAP nested with '# ', a diagnostic
 * line per case) and KUnit in the kernel log (suites of 100 cases, 4-space
 * nesting, printk time stamps, a diagnostic line per case).
 */
import { cpus, loadavg } from 'node:os';
import { KtapParser, parseKtap } from '../domain/ktap';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RESULTS = Number(arg('results', '100000'));
const PER_SUITE = 100;
const SUITES = Math.ceil(RESULTS / PER_SUITE);

function kselftest(): string {
  const lines = ['TAP version 13', `1..${SUITES}`];
  for (let s = 1; s <= SUITES; s++) {
    lines.push(`# selftests: bench: prog_${s}`, '# TAP version 13', `# 1..${PER_SUITE}`);
    for (let c = 1; c <= PER_SUITE; c++) lines.push(`# # case ${c}: checking`, `# ok ${c} case_${c}`);
    lines.push(
      `# # Totals: pass:${PER_SUITE} fail:0 xfail:0 xpass:0 skip:0 error:0`,
      `ok ${s} selftests: bench: prog_${s}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function kunit(): string {
  let t = 0;
  const stamp = () => `[${(t++ / 1e6).toFixed(6).padStart(12)}] `;
  const lines = [`${stamp()}KTAP version 1`, `${stamp()}1..${SUITES}`];
  for (let s = 1; s <= SUITES; s++) {
    lines.push(`${stamp()}    KTAP version 1`, `${stamp()}    # Subtest: suite_${s}`, `${stamp()}    1..${PER_SUITE}`);
    for (let c = 1; c <= PER_SUITE; c++)
      lines.push(`${stamp()}    # case_${c}: initializing`, `${stamp()}    ok ${c} case_${c}`);
    lines.push(`${stamp()}ok ${s} suite_${s}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

function measure(name: string, text: string): void {
  const lines = text.split('\n').length - 1;
  const mb = Buffer.byteLength(text) / 1e6;
  for (const mode of ['whole', '4 KiB chunks'] as const) {
    const runs: number[] = [];
    let results = 0;
    for (let i = 0; i < 5; i++) {
      const started = process.hrtime.bigint();
      if (mode === 'whole') results = parseKtap(text, { prefix: 'bench', maxResults: RESULTS * 2 }).results.length;
      else {
        const parser = new KtapParser({ prefix: 'bench', maxResults: RESULTS * 2 });
        for (let at = 0; at < text.length; at += 4096) parser.feed(text.slice(at, at + 4096));
        results = parser.end().results.length;
      }
      runs.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const ms = runs.sort((a, b) => a - b)[2];
    console.log(
      `${name.padEnd(10)} ${mode.padEnd(13)} ${lines} lines, ${mb.toFixed(1)} MB, ${results} results: ` +
        `${ms.toFixed(0)} ms (median of 5), ${((lines / ms) * 1000).toFixed(0)} lines/s, ${((mb / ms) * 1000).toFixed(1)} MB/s`,
    );
  }
}

console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, load ${loadavg()[0].toFixed(2)}`);
measure('kselftest', kselftest());
measure('kunit', kunit());
