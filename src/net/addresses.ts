import ipaddr from 'ipaddr.js';

/** The only IPv6 space IANA allocates for global unicast; everything else is reserved or special. */
const GLOBAL_UNICAST_V6: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('2000::'), 3];

/**
 * True for an IP address that is anything but public unicast: loopback, private, link-local (cloud
 * metadata at 169.254.169.254), carrier-grade NAT, multicast, documentation and other reserved ranges,
 * and every IPv6 form that carries or reaches an IPv4 address — IPv4-mapped (`::ffff:a.b.c.d`),
 * IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`, through which `64:ff9b::a9fe:a9fe` is
 * 169.254.169.254 on IPv6-only subnets), 6to4 (`2002::/16`), Teredo (`2001::/32`). A webhook URL
 * there would let an API key holder probe the server's own network.
 *
 * The ranges come from ipaddr.js (the library Express's proxy-addr relies on), which keeps the IANA
 * special-purpose registries: only what it classifies as `unicast` passes, and for IPv6 only inside
 * 2000::/3 (ipaddr.js calls the deprecated IPv4-compatible `::7f00:1` unicast). A host name is not an
 * address: false (callers check what it resolves to).
 */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  // process() turns an IPv4-mapped IPv6 address into the IPv4 address it means.
  const ip = ipaddr.process(address);
  if (ip.range() !== 'unicast') return true;
  return ip.kind() === 'ipv6' && !(ip as ipaddr.IPv6).match(GLOBAL_UNICAST_V6);
}
