/**
 * Private, loopback, link-local and other non-public addresses (RFC 1918, 6598, 3927, 4193, 4291,
 * ...), and a DNS lookup for outgoing connections that refuses them: the address checked is the
 * one connected to, so a name that resolves elsewhere than it did when the webhook was accepted
 * (DNS rebinding) is caught too.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { BlockList, isIPv4 } from "node:net";

const blocked = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local (cloud metadata services)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128],
  ["64:ff9b::", 96], // NAT64: IPv4 behind it
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const) {
  blocked.addSubnet(network, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return blocked.check(mapped, "ipv4");
  return isIPv4(address) ? blocked.check(address, "ipv4") : blocked.check(address, "ipv6");
}

export class PrivateAddressError extends Error {}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** `dns.lookup` for `http.request`'s `lookup` option, failing when any answer is a private address. */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((answer) => isPrivateAddress(answer.address));
    if (refused) {
      return callback(
        new PrivateAddressError(
          `${hostname} resolves to ${refused.address}, a private, loopback or link-local address (webhooks.url.block_private_addresses)`,
        ),
        [],
      );
    }
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    return first
      ? callback(null, first.address, first.family)
      : callback(Object.assign(new Error(`${hostname}: no address`), { code: "ENOTFOUND" }), []);
  });
}
