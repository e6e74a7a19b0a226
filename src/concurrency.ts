import pMap from 'p-map';

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, results in input order. The first
 * failure stops it: no further item starts (p-map's stopOnError), the calls already in flight are
 * let finish, and only then does it reject with that first error — so nothing keeps working on a
 * request after its caller has answered with the failure.
 *
 * The one bounded-concurrency helper of the codebase (batch sends, enrollments, signals, SMTP batches).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const inFlight = new Set<Promise<R>>();
  try {
    return await pMap(
      items,
      (item, index) => {
        const call = fn(item, index);
        inFlight.add(call);
        void call.then(
          () => inFlight.delete(call),
          () => inFlight.delete(call),
        );
        return call;
      },
      { concurrency: Math.max(1, limit), stopOnError: true },
    );
  } catch (err) {
    await Promise.allSettled([...inFlight]);
    throw err;
  }
}
