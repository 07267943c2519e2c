// Globs of file-change triggers: checked when an action is defined, compiled once per
// watch set, and reduced to the folders that must be watched (a glob's static base).
import picomatch from 'picomatch';

/** Never watched unless a glob names them: churn nobody means to react to. */
export const IGNORED_BY_DEFAULT = ['.git', '.sdlc', 'node_modules'] as const;
const MAX_GLOB = 500;

/** What is wrong with a glob, said so that it can be fixed, or undefined when it is fine. */
export function globProblem(glob: string): string | undefined {
  if (typeof glob !== 'string' || glob.trim() === '') return 'the glob is empty; write e.g. "src/**/*.ts"';
  if (glob.length > MAX_GLOB) return `the glob is ${glob.length} characters; the limit is ${MAX_GLOB}`;
  if (glob.includes('\\')) return `"${glob}" uses "\\"; write paths with "/" (they are relative to the workspace folder)`;
  if (glob.startsWith('/') || /^[A-Za-z]:/.test(glob)) return `"${glob}" is absolute; write it relative to the workspace folder, e.g. "src/**"`;
  if (glob.split('/').includes('..')) return `"${glob}" leaves the workspace folder ("..")`;
  if (glob.startsWith('!')) return `"${glob}" is negated; put what to leave out under "ignore" instead`;
  try {
    picomatch.makeRe(glob, { dot: true, strictBrackets: true });
  } catch (err) {
    return `"${glob}" is not a valid glob: ${(err as Error).message.replace(/ - use .*$/, '')}`;
  }
  return undefined;
}

/** A branch-name pattern (`main`, `release/*`): a glob over ref names, with git's own forbidden characters refused. */
export function branchPatternProblem(pattern: string): string | undefined {
  if (typeof pattern !== 'string' || pattern.trim() === '') return 'the branch pattern is empty; write e.g. "main" or "release/*"';
  if (/[\s~^:\\]|\.\.|@\{|^\/|\/$|\.lock$/.test(pattern)) return `"${pattern}" cannot match a git branch name (no spaces, "~", "^", ":", "\\", "..", "@{", and no leading or trailing "/")`;
  return globProblem(pattern);
}

/** Is a path (relative, "/"-separated) inside one of the folders ignored by default, and not named by any glob? */
function namesIgnored(globs: readonly string[], top: string): boolean {
  return globs.some((g) => g === top || g.startsWith(`${top}/`));
}

export interface Matcher {
  (relPath: string): boolean;
}

/** Matches a relative path against `paths` minus `ignore`, with the default ignores unless named. */
export function compileMatcher(paths: readonly string[], ignore: readonly string[] = []): Matcher {
  const yes = picomatch(paths as string[], { dot: true });
  const no = ignore.length ? picomatch(ignore as string[], { dot: true }) : () => false;
  const defaults = IGNORED_BY_DEFAULT.filter((top) => !namesIgnored(paths, top));
  return (rel) => {
    for (const top of defaults) if (rel === top || rel.startsWith(`${top}/`) || rel.includes(`/${top}/`)) return false;
    return yes(rel) && !no(rel);
  };
}

/** The folders (relative; '' is the workspace) that hold everything the globs can match. */
export function watchRoots(globs: readonly string[]): string[] {
  const bases = globs.map((g) => {
    const { base, isGlob } = picomatch.scan(g);
    // A plain path: watch its folder, so that the file's creation is seen too.
    if (!isGlob) return g.includes('/') ? g.slice(0, g.lastIndexOf('/')) : '';
    return base;
  });
  const unique = [...new Set(bases)].sort();
  // A folder inside another watched one adds nothing.
  return unique.filter((b) => !unique.some((o) => o !== b && (o === '' || b.startsWith(`${o}/`))));
}

/** Is this folder (relative) one the watcher should not descend into for these globs? */
export function ignoredFolder(rel: string, globs: readonly string[]): boolean {
  const parts = rel.split('/');
  return IGNORED_BY_DEFAULT.some((top) => parts.includes(top) && !namesIgnored(globs, top));
}
