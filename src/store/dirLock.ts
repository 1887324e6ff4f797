import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../core/errors.js';

/**
 * One Herald process per data directory. LMDB itself would let two processes share the files,
 * but each hub numbers events from its own in-memory heads, so a second one would assign the
 * same seqs and overwrite events. A `herald.pid` file taken with O_EXCL guards the directory; a
 * file left by a process that no longer runs (a crash) is taken over.
 */
export class DirLock {
  private constructor(private readonly file: string) {}

  static acquire(dir: string): DirLock {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'herald.pid');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new DirLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
        if (Number.isSafeInteger(holder) && holder > 0 && isRunning(holder)) {
          throw new HeraldError('unavailable', `the data directory ${dir} is in use by process ${holder}; run one Herald per data directory (or remove ${file} if that process is not Herald)`);
        }
        rmSync(file, { force: true }); // stale: its process is gone
      }
    }
    throw new HeraldError('unavailable', `could not lock the data directory ${dir}`);
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
