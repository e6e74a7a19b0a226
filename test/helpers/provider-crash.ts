/**
 * SIGKILLs this process right after the Nth response of the provider at `baseUrl` came back, before
 * the code that asked for it sees it: the worst moment for exactly-once (the provider accepted the
 * emails and the database does not know). Counted per HTTP call, so a batch that the adapter splits
 * into several provider calls (Resend: 100 emails a call) can die between two of them.
 */
export function crashAfterProviderCalls(baseUrl: string, n: number): void {
  let calls = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const response = await realFetch(input, init);
    if (url.startsWith(baseUrl) && ++calls >= n) process.kill(process.pid, 'SIGKILL');
    return response;
  };
}
