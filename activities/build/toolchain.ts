import { findOnPath } from '../../plumbing/tools';
import { RetryableErrorType, retryable } from '../../domain/errors';

export interface Toolchain {
  /** make variables that select the compiler (CC=…, LLVM=…) */
  makeVars: string[];
  /** what the log says was used */
  description: string;
}

const TOOLCHAIN = /^(gcc|clang)(?:-(\d+))?$/;

/**
 * The make variables for a build config's toolchain on this builder:
 * 'gcc-12' is `<cross>gcc-12` when installed, else `<cross>gcc`; 'clang-N'
 * is LLVM=-N (LLVM=1 when only an unversioned clang exists). With ccache,
 * CC is prefixed by it. The choice only depends on the config and on what
 * is installed, so it stays the same from one build to the next in a build
 * directory (a changed CC makes kbuild rebuild everything).
 */
export function resolveToolchain(
  toolchain: string,
  crossCompile: string,
  opts: { ccache: boolean; which?: (name: string) => string | null },
): Toolchain {
  const which = opts.which ?? findOnPath;
  const m = TOOLCHAIN.exec(toolchain);
  if (!m) throw new Error(`unknown toolchain ${JSON.stringify(toolchain)}`);
  const [, family, version] = m;
  const ccache = opts.ccache && which('ccache') ? 'ccache ' : '';
  const missing = (what: string) =>
    retryable(
      RetryableErrorType.buildInfra,
      `toolchain ${toolchain} is not installed on this builder: ${what} not found on PATH`,
    );

  if (family === 'gcc') {
    const versioned = version ? `${crossCompile}gcc-${version}` : undefined;
    const cc = versioned && which(versioned) ? versioned : `${crossCompile}gcc`;
    if (!which(cc)) throw missing(cc);
    return { makeVars: [`CC=${ccache}${cc}`], description: `${ccache}${cc}` };
  }
  const clang = version && which(`clang-${version}`) ? `clang-${version}` : 'clang';
  if (!which(clang)) throw missing(clang);
  const llvm = clang === 'clang' ? '1' : `-${version}`;
  return {
    makeVars: [`LLVM=${llvm}`, ...(ccache ? [`CC=${ccache}${clang}`] : [])],
    description: `${ccache}${clang} (LLVM=${llvm})`,
  };
}
