/**
 * Waiting for a condition that real processes reach in their own time (a leader elected, a broker
 * unfenced, a record replicated): `probe` is asked again until `ok` holds, and the failure names what was
 * awaited and the last answer. A condition observed, never a fixed sleep: the test moves on as soon as it
 * holds, and a slow machine only makes it wait longer.
 */
export async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(last, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v))}, error: ${String(lastError)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
