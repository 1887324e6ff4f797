import { describe, expect, it } from 'vitest';
import { FuncSink } from './FuncSink.js';
import { checkClose } from './testkit.js';

describe('FuncSink', () => {
  it('calls the function for each write and settles as it does', async () => {
    const got: number[] = [];
    const sink = new FuncSink<number>(async (e) => {
      if (e === 3) throw new Error('three');
      got.push(e);
    });
    await sink.write(1);
    await sink.write(2);
    await expect(sink.write(3)).rejects.toThrow('three');
    expect(got).toEqual([1, 2]);
    expect(sink.stats()).toEqual({ written: 3, delivered: 2, failed: 1 });
  });

  it('a synchronous function works, a synchronous throw rejects', async () => {
    const got: string[] = [];
    const sink = new FuncSink<string>((e) => {
      if (e === 'x') throw new Error('x');
      got.push(e);
    });
    await sink.write('a');
    await expect(sink.write('x')).rejects.toThrow('x');
    expect(got).toEqual(['a']);
  });

  it('runs onClose once and passes checkClose', async () => {
    let closes = 0;
    const sink = new FuncSink<string>(() => {}, { onClose: () => void closes++ });
    await checkClose(sink);
    expect(closes).toBe(1);
  });

  it("close returns onClose's error; a second close resolves", async () => {
    const sink = new FuncSink<string>(() => {}, {
      onClose: async () => {
        throw new Error('cannot');
      },
    });
    await expect(sink.close()).rejects.toThrow('cannot');
    await expect(sink.close()).resolves.toBeUndefined();
  });
});
