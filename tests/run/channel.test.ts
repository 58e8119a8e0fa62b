import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/run/channel.js';

describe('Channel', () => {
  it('delivers items in order and blocks puts while full', async () => {
    const channel = new Channel<number>(2);
    await channel.put(1);
    await channel.put(2);
    let thirdQueued = false;
    const third = channel.put(3).then(() => {
      thirdQueued = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(thirdQueued).toBe(false);
    expect(channel.size).toBe(2);
    expect(await channel.take()).toBe(1);
    await third;
    expect(thirdQueued).toBe(true);
    expect(await channel.take()).toBe(2);
    expect(await channel.take()).toBe(3);
  });

  it('hands an item straight to a waiting taker', async () => {
    const channel = new Channel<string>(1);
    const taken = channel.take();
    await channel.put('a');
    expect(await taken).toBe('a');
    expect(channel.size).toBe(0);
  });

  it('close drains queued items, then answers undefined and refuses puts', async () => {
    const channel = new Channel<number>(3);
    await channel.put(7);
    channel.close();
    expect(await channel.put(8)).toBe(false);
    expect(await channel.take()).toBe(7);
    expect(await channel.take()).toBeUndefined();
  });

  it('close wakes blocked putters and takers', async () => {
    const channel = new Channel<number>(1);
    await channel.put(1);
    const blocked = channel.put(2);
    const empty = new Channel<number>(1);
    const waiting = empty.take();
    channel.close();
    empty.close();
    expect(await blocked).toBe(false);
    expect(await waiting).toBeUndefined();
    expect(channel.drain()).toEqual([1]);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new Channel(0)).toThrow('Expected `capacity` to be a positive integer, got `0`');
  });
});
