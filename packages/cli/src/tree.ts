/**
 * Walking a tree of files for a batch, without following links: regular files are listed;
 * symbolic links and special files (devices, sockets, FIFOs) are skipped and counted; our own
 * temporaries are never inputs (and stale ones are removed). Unreadable directories are
 * failures of their own, and the walk goes on.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isTempName, sweepTempsIn } from './temp.js';

export interface TreeFile {
  /** The path to open. */
  path: string;
  /** Relative to the root it was found under (the file's own name for a file argument). */
  rel: string;
  size: number;
  mode: number;
}

export interface TreeListing {
  files: TreeFile[];
  skipped: { input: string; reason: string }[];
  failed: { input: string; error: unknown }[];
}

export function kindOf(s: { isSymbolicLink(): boolean; isFile(): boolean; isDirectory(): boolean }): string {
  if (s.isSymbolicLink()) return 'symbolic link';
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'directory';
  return 'special file';
}

/**
 * Lists the regular files under `root` (recursively), sorted by path. With `sweep`, stale
 * temporaries of killed runs found on the way are removed.
 */
export async function walkTree(root: string, listing: TreeListing, options: { sweep?: boolean } = {}): Promise<void> {
  const visit = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (e) {
      listing.failed.push({ input: dir, error: e });
      return;
    }
    if (options.sweep) sweepTempsIn(dir, names);
    for (const name of names) {
      if (isTempName(name)) continue;
      const p = path.join(dir, name);
      const r = rel ? path.join(rel, name) : name;
      let s;
      try {
        s = await lstat(p);
      } catch (e) {
        listing.failed.push({ input: p, error: e });
        continue;
      }
      if (s.isDirectory()) await visit(p, r);
      else if (s.isFile()) listing.files.push({ path: p, rel: r, size: s.size, mode: s.mode & 0o7777 });
      else listing.skipped.push({ input: p, reason: kindOf(s) });
    }
  };
  await visit(root, '');
}
