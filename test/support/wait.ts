/**
 * Waiting in tests: poll a condition until it holds or a deadline passes, never sleep a fixed time. A
 * fixed sleep is too short on a busy machine and too long everywhere else.
 */

export interface WaitOptions {
  /** How long to wait before failing (default 30 s). */
  timeoutMs?: number;
  /** Time between two polls (default 50 ms). */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/** Resolves with the first truthy value `condition` returns; fails after `timeoutMs`. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 50, what = 'a condition' }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Waited ${timeoutMs} ms for ${what}, in vain`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Polls `read` (the tenant's view through an API, the registry's row, …) until its `status` is one of
 * `statuses`, and returns what it read last; fails naming the status it was left in.
 */
export async function waitForStatus<T extends { status: string }>(
  read: () => Promise<T | null | undefined>,
  statuses: readonly string[],
  { timeoutMs = 45_000, intervalMs = 50, what = 'the tenant' }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await read();
    if (seen && statuses.includes(seen.status)) return seen;
    if (Date.now() > deadline) {
      throw new Error(
        `${what} is ${seen?.status ?? 'missing'} after ${timeoutMs} ms; expected ${statuses.join('|')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `waitFor` with the awaited thing named first (the witness tests' spelling). */
export function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  return waitFor(check, { what, timeoutMs, intervalMs }) as Promise<NonNullable<T>>;
}
