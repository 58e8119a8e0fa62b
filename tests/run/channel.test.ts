import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/run/channel.js';
import { Slots } from '../../src/run/slots.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Channel', () => {
  it('delivers items in order and grants reservations only while queued plus reserved fits', async () => {
    const channel = new Channel<number>(3);
    expect(await channel.reserve(2)).toBe(true);
    let granted = false;
    const third = channel.reserve(2).then((ok) => {
      granted = ok;
    });
    await turn();
    expect(granted).toBe(false);
    expect(channel.put(1)).toBe(true);
    expect(channel.put(2)).toBe(true);
    await turn();
    expect(granted).toBe(false);
    expect(await channel.take()).toBe(1);
    await third;
    expect(granted).toBe(true);
    expect(channel.size + channel.pending).toBe(3);
    expect(await channel.take()).toBe(2);
  });

  it('grants waiting reservations first come, first served, never beyond capacity', async () => {
    const channel = new Channel<string>(2);
    await channel.reserve(2);
    const order: string[] = [];
    const a = channel.reserve(2).then(() => order.push('a'));
    const b = channel.reserve(1).then(() => order.push('b'));
    channel.release(1);
    await turn();
    // b would fit now, but a waits ahead of it.
    expect(order).toEqual([]);
    channel.release(1);
    await a;
    expect(order).toEqual(['a']);
    expect(channel.pending).toBe(2);
    channel.release(2);
    await b;
    expect(order).toEqual(['a', 'b']);
  });

  it('hands an item straight to a waiting taker', async () => {
    const channel = new Channel<string>(1);
    const taken = channel.take();
    await channel.reserve();
    channel.put('a');
    expect(await taken).toBe('a');
    expect(channel.size).toBe(0);
  });

  it('after close, refuses reservations but still delivers what was queued or reserved', async () => {
    const channel = new Channel<number>(3);
    await channel.reserve(2);
    channel.put(7);
    channel.close();
    expect(await channel.reserve()).toBe(false);
    expect(await channel.take()).toBe(7);
    const late = channel.take();
    channel.put(8);
    expect(await late).toBe(8);
    expect(await channel.take()).toBeUndefined();
  });

  it('ends takers once closed and owed nothing, and wakes waiting reservers with false', async () => {
    const channel = new Channel<number>(1);
    await channel.reserve();
    const waiting = channel.reserve();
    const taker = channel.take();
    channel.close();
    expect(await waiting).toBe(false);
    channel.release();
    expect(await taker).toBeUndefined();
  });

  it('drain hands back queued items and refuses later puts', async () => {
    const channel = new Channel<number>(3);
    await channel.reserve(3);
    channel.put(1);
    channel.put(2);
    expect(channel.drain()).toEqual([1, 2]);
    expect(channel.put(3)).toBe(false);
    expect(await channel.take()).toBeUndefined();
  });

  it('checks its arguments eagerly', () => {
    expect(() => new Channel(0)).toThrow('Expected `capacity` to be a positive integer, got `0`');
    expect(() => new Channel(2).reserve(3)).toThrow(/Expected `count` to be an integer in 1..2/);
  });
});

describe('Slots', () => {
  it('grants up to the limit and follows a raised or lowered limit', async () => {
    const slots = new Slots(1);
    expect(await slots.acquire()).toBe(true);
    let second = false;
    const pending = slots.acquire().then((ok) => {
      second = ok;
    });
    await turn();
    expect(second).toBe(false);
    slots.setLimit(2);
    await pending;
    expect(second).toBe(true);
    expect(slots.inUse).toBe(2);
    slots.setLimit(0);
    slots.release();
    let third = false;
    const waiting = slots.acquire().then((ok) => {
      third = ok;
    });
    slots.release();
    await turn();
    expect(third).toBe(false);
    slots.setLimit(1);
    await waiting;
    expect(third).toBe(true);
  });

  it('close wakes waiters with false', async () => {
    const slots = new Slots(0);
    const waiting = slots.acquire();
    slots.close();
    expect(await waiting).toBe(false);
    expect(await slots.acquire()).toBe(false);
  });
});
