/** .config text handling: fragments merged by symbol, options read back. */

const ASSIGNMENT = /^(CONFIG_[A-Za-z0-9_]+)=/;
const UNSET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;
/** a fragment that names a file of the tree rather than a kconfig line */
const FRAGMENT_FILE = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/-]+\.config$/;

export function configSymbol(line: string): string | undefined {
  return ASSIGNMENT.exec(line)?.[1] ?? UNSET.exec(line)?.[1];
}

export function isFragmentLine(fragment: string): boolean {
  return configSymbol(fragment) !== undefined;
}

/** A tree-relative path that stays inside the tree. */
export function isFragmentFile(fragment: string): boolean {
  return FRAGMENT_FILE.test(fragment);
}

/**
 * `lines` applied to a .config: each symbol's earlier assignment is replaced
 * by the fragment's, so kconfig sees one value per symbol (appending alone
 * works too, but fills the log with "override: reassigning" warnings).
 */
export function mergeConfig(config: string, lines: string[]): string {
  const settings = lines.map((l) => l.trim()).filter((l) => configSymbol(l));
  const overridden = new Set(settings.map((l) => configSymbol(l)));
  const kept = config.split('\n').filter((l) => !overridden.has(configSymbol(l) ?? ''));
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  return `${[...kept, ...settings].join('\n')}\n`;
}

/** True when `CONFIG_<name>=y` (or =m) is set. */
export function configEnabled(config: string, name: string): boolean {
  return new RegExp(`^CONFIG_${name}=[ym]$`, 'm').test(config);
}
