import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LmdbStore } from '../../src/store/lmdb.js';
import { tempDir } from '../helpers/tmp.js';

describe('one process per LMDB data directory', () => {
  it('refuses a second store on a directory in use, and frees it on close', async () => {
    const dir = tempDir();
    try {
      const first = new LmdbStore({ path: dir.path });
      await first.open();
      const second = new LmdbStore({ path: dir.path });
      await expect(second.open()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining(`in use by process ${process.pid}`) });
      await first.close();
      expect(existsSync(join(dir.path, 'herald.pid'))).toBe(false);
      await second.open();
      await second.close();
    } finally {
      dir.cleanup();
    }
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = tempDir();
    try {
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      writeFileSync(join(dir.path, 'herald.pid'), `${gone}\n`);
      const store = new LmdbStore({ path: dir.path });
      await store.open();
      await store.append([{ stream: 's', data: new Uint8Array([1]) }]);
      await store.close();
    } finally {
      dir.cleanup();
    }
  });
});
