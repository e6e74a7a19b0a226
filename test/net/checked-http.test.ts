import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { RefusedAddressError, checkedLookup, postOnce } from '../../src/net/checked-http.js';

/**
 * At each delivery the worker resolves the receiver's name again and connects only to a checked
 * address (DNS rebinding). A name whose answers include an internal address in any form is refused.
 */
const INTERNAL_ANSWERS: Array<[string, LookupAddress]> = [
  ['NAT64 of the metadata service', { address: '64:ff9b::a9fe:a9fe', family: 6 }],
  ['6to4 of loopback', { address: '2002:7f00:1::', family: 6 }],
  ['Teredo', { address: '2001:0:4136:e378:8000:63bf:3fff:fdd2', family: 6 }],
  ['IPv4-mapped private', { address: '::ffff:10.1.2.3', family: 6 }],
  ['documentation', { address: '2001:db8::5', family: 6 }],
  ['link-local IPv4', { address: '169.254.169.254', family: 4 }],
];

function lookupWith(answers: LookupAddress[]): Promise<{ err: Error | null; address: unknown }> {
  const lookup = checkedLookup(async () => answers, true);
  return new Promise((resolve) => lookup('hooks.example.com', { all: true }, (err, address) => resolve({ err, address })));
}

describe('delivery-time address check', () => {
  for (const [what, answer] of INTERNAL_ANSWERS) {
    it(`refuses a name that resolves to ${what} (${answer.address}), even among public answers`, async () => {
      const { err } = await lookupWith([{ address: '93.184.215.14', family: 4 }, answer]);
      expect(err).toBeInstanceOf(RefusedAddressError);
    });
  }

  it('passes public answers through', async () => {
    const { err, address } = await lookupWith([{ address: '93.184.215.14', family: 4 }, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }]);
    expect(err).toBeNull();
    expect(address).toHaveLength(2);
  });

  it('refuses an IP literal in any internal form without connecting', async () => {
    for (const url of ['http://[64:ff9b::a9fe:a9fe]/h', 'http://[2002:a9fe:a9fe::]/h', 'http://[::ffff:127.0.0.1]/h', 'http://0x7f.1/h']) {
      const attempt = postOnce(url, {}, '{}', { lookup: checkedLookup(async () => [], true), publicOnly: true, timeoutMs: 1_000, bodyLimit: 100 });
      await expect(attempt, url).rejects.toBeInstanceOf(RefusedAddressError);
    }
  });
});
