import { describe, expect, it } from 'vitest';
import { DoubleBuffer } from '../../src/manifest/double-buffer.js';

/** A write the test finishes by hand, recording what it was given. */
function manualWrites() {
  const writes: { text: string; finish: (error?: unknown) => void }[] = [];
  const write = (bytes: Buffer, length: number): Promise<void> =>
    new Promise((resolve, reject) => {
      writes.push({
        text: bytes.subarray(0, length).toString('utf8'),
        finish: (error) => (error === undefined ? resolve() : reject(error)),
      });
    });
  return { writes, write };
}

describe('DoubleBuffer', () => {
  it('hands the full buffer to write and fills the other one meanwhile, reusing both', async () => {
    // Prepare
    const { writes, write } = manualWrites();
    const buffers = new DoubleBuffer(1024, write);
    const first = buffers.buffer();
    first.append('a', 'u1');

    // Act
    await buffers.rotate();
    const second = buffers.buffer();
    second.append('b', 'u2');

    // Assess
    expect(second).not.toBe(first);
    expect(writes.map((w) => w.text)).toEqual(['{"key":"a","url":"u1"}\n']);
    expect(buffers.inFlight).toBeDefined();

    // Act: the next rotation waits for the first write, then reuses the first buffer
    const rotating = buffers.rotate();
    await Promise.resolve();
    expect(writes).toHaveLength(1);
    writes[0]?.finish();
    await rotating;

    // Assess
    expect(writes.map((w) => w.text)).toEqual(['{"key":"a","url":"u1"}\n', '{"key":"b","url":"u2"}\n']);
    expect(buffers.buffer()).toBe(first);
    expect(buffers.buffer().length).toBe(0);
  });

  it('writes nothing for an empty buffer', async () => {
    const { writes, write } = manualWrites();
    const buffers = new DoubleBuffer(1024, write);
    await buffers.rotate();
    buffers.buffer();
    await buffers.rotate();
    expect(writes).toHaveLength(0);
    expect(buffers.inFlight).toBeUndefined();
  });

  it('keeps the first failed write and throws it from every later rotation', async () => {
    // Prepare
    const { writes, write } = manualWrites();
    const buffers = new DoubleBuffer(1024, write);
    buffers.buffer().append('a', 'u1');
    await buffers.rotate();
    const boom = new Error('disk full');

    // Act
    writes[0]?.finish(boom);
    await buffers.inFlight;

    // Assess
    expect(buffers.failure).toBe(boom);
    expect(buffers.inFlight).toBeUndefined();
    await expect(buffers.rotate()).rejects.toBe(boom);
    await expect(buffers.rotate()).rejects.toBe(boom);
  });

  it('release drops both buffers, so the next one is new', async () => {
    const { write } = manualWrites();
    const buffers = new DoubleBuffer(1024, write);
    const first = buffers.buffer();
    buffers.release();
    expect(buffers.buffer()).not.toBe(first);
  });
});
