import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/cli/heapGrowth.js';

describe('the server heap growth factor', () => {
  it('is set when the operator chose none', () => {
    expect(heapGrowthFlag([], '')).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowthFlag(['--max-old-space-size=512'], '--enable-source-maps')).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });

  it("is left alone when node's flags or NODE_OPTIONS choose one, in either spelling", () => {
    expect(heapGrowthFlag(['--heap-growing-percent=100'], '')).toBeUndefined();
    expect(heapGrowthFlag([], '--max-old-space-size=512 --heap_growing_percent=30')).toBeUndefined();
    expect(heapGrowthFlag(['--heap-growing-percent-x'], '')).toBeDefined();
  });
});
