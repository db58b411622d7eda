/**
 * `--include` / `--exclude` globs for rewrap: `*` (any run of characters but "/"), `**` (any
 * run, "/" included), `?` (one character but "/"), `[abc]` / `[!abc]` (a class). A pattern with
 * no "/" is matched against the file's name; one with "/" against its path relative to the
 * directory argument it was found under.
 */

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?'; // "**/" also matches no directory at all
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** A filter over relative paths from include and exclude globs (no include: everything). */
export function pathFilter(include: readonly string[] = [], exclude: readonly string[] = []): (rel: string) => boolean {
  const compile = (g: string) => {
    const re = globToRegExp(g);
    return g.includes('/') ? (rel: string) => re.test(rel) : (rel: string) => re.test(rel.slice(rel.lastIndexOf('/') + 1));
  };
  const inc = include.map(compile);
  const exc = exclude.map(compile);
  return (rel) => (inc.length === 0 || inc.some((m) => m(rel))) && !exc.some((m) => m(rel));
}
