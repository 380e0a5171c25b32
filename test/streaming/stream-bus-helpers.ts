/** Helpers shared by the StreamBus tests: a message inbox to await, and names unique to one test run. */
import { randomUUID } from 'node:crypto';

export const redisUrl = process.env.ZUMIK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test run (or concurrent engineer) shares, so runs on one Redis stay apart. */
export function uniquePrefix(): string {
  return `zumik:test:${randomUUID()}:`;
}

export function uniqueName(label: string): string {
  return `zumik-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Collects what a subscriber receives; `until(n)` waits for the n-th message or fails naming what arrived. */
export class Inbox {
  readonly messages: unknown[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  readonly receive = (message: unknown): void => {
    this.messages.push(message);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.messages.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  };

  async until(count: number, timeoutMs = 5_000): Promise<unknown[]> {
    if (this.messages.length >= count) return this.messages;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiters.push({ count, resolve });
        timer = setTimeout(() => reject(new Error(
          `expected ${count} messages within ${timeoutMs} ms, got ${this.messages.length}: ${JSON.stringify(this.messages.slice(-5))}`)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
    return this.messages;
  }
}

/** Polls `condition` until it holds; for state only the server can report (a reconnected client). */
export async function waitFor(condition: () => Promise<boolean>, description: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
