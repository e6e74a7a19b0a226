/**
 * An HTTP client for URLs that someone else chose (outgoing webhooks): it connects only to addresses
 * it checked itself, so a host name that resolves to the server's own network (DNS rebinding
 * included) is refused at connect time, not just when the URL was saved.
 */
import { lookup as resolveAll, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from './addresses.js';

/** A receiver on a private or reserved address, refused before connecting: no retry can make it public. */
export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
}

export const systemResolver = (hostname: string) =>
  new Promise<LookupAddress[]>((resolve, reject) => resolveAll(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * The `lookup` of the receiver's connection: resolves once, and with `publicOnly` fails the connection
 * if any answer is private (as the create-time check does), so the socket can only go to an address
 * checked here. Handles both shapes net asks for (one address, or all of them for Happy Eyeballs).
 */
export function checkedLookup(resolve: (hostname: string) => Promise<LookupAddress[]>, publicOnly: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const inside = publicOnly ? addresses.find((a) => isPrivateAddress(a.address)) : undefined;
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = addresses.filter((a) => !family || a.family === family);
        if (inside) {
          callback(new RefusedAddressError(`${hostname} resolves to ${inside.address}, a private or reserved address`), '', 0);
        } else if (usable.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no usable address`), { code: 'ENOTFOUND' }), '', 0);
        } else if (options.all) {
          callback(null, usable);
        } else {
          callback(null, usable[0]!.address, usable[0]!.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export interface Answer {
  status: number;
  statusText: string;
  retryAfter: string | null;
  /** The first bytes of the body (the rest is not read), as text PostgreSQL accepts (no NUL). */
  body: string;
}

/**
 * One POST with node:http(s) rather than fetch: it takes a `lookup`, so the address checked is the one
 * connected to (TLS SNI and Host still name the URL's host), and it has no list of forbidden ports.
 * No redirects are followed: a 3xx is a failed attempt (as Svix does), and cannot lead the worker elsewhere.
 */
export function postOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { lookup: LookupFunction; publicOnly: boolean; timeoutMs: number; bodyLimit: number },
): Promise<Answer> {
  const { lookup, publicOnly, timeoutMs, bodyLimit } = options;
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // An IP literal is connected to without a lookup: checked here instead.
    if (publicOnly && isIP(host) && isPrivateAddress(host)) {
      reject(new RefusedAddressError(`${host} is a private or reserved address`));
      return;
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup,
        // A fresh connection per attempt, made through `lookup`: a pooled socket would skip the check.
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= bodyLimit) res.destroy();
        });
        // A body cut short (by us, by the timeout or by the receiver) still leaves the status.
        res.on('error', () => {});
        res.on('close', () =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            retryAfter: typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : null,
            body: Buffer.concat(chunks).subarray(0, bodyLimit).toString('utf8').replaceAll('\u0000', ''),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
