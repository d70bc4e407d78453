import { describe, expect, it } from 'vitest';
import { ListingPermits, Wakeup } from '../../src/s3/listing-permits.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ListingPermits', () => {
  it('hands out its permits, then makes acquirers wait and serves them in order on release', async () => {
    // Prepare
    const permits = new ListingPermits(2);
    const order: string[] = [];

    // Act
    expect(await permits.acquire()).toBe(true);
    expect(await permits.acquire()).toBe(true);
    void permits.acquire().then((ok) => order.push(`first:${ok}`));
    void permits.acquire().then((ok) => order.push(`second:${ok}`));
    await tick();
    const whileFull = [...order];
    permits.release();
    await tick();
    const afterOne = [...order];
    permits.release();
    await tick();

    // Assess
    expect(whileFull).toEqual([]);
    expect(afterOne).toEqual(['first:true']);
    expect(order).toEqual(['first:true', 'second:true']);
    expect(permits.free).toBe(0);
  });

  it('a release with nobody waiting frees the permit', async () => {
    const permits = new ListingPermits(1);
    await permits.acquire();
    expect(permits.free).toBe(0);
    permits.release();
    expect(permits.free).toBe(1);
  });

  it('close answers every waiter and every later acquire with false', async () => {
    const permits = new ListingPermits(1);
    await permits.acquire();
    const waiting = permits.acquire();
    permits.close();
    await expect(waiting).resolves.toBe(false);
    await expect(permits.acquire()).resolves.toBe(false);
  });
});

describe('Wakeup', () => {
  it('resumes the parked waiter once, and a wake with nobody waiting does nothing', async () => {
    // Prepare
    const wakeup = new Wakeup();
    let woken = 0;
    wakeup.wake();

    // Act
    void wakeup.wait().then(() => woken++);
    await tick();
    const beforeWake = woken;
    wakeup.wake();
    wakeup.wake();
    await tick();

    // Assess
    expect(beforeWake).toBe(0);
    expect(woken).toBe(1);
  });
});
