/**
 * Egress rules for endpoints a customer supplies (a BYOC `base_url` registered through the API): the
 * worker must not become a way into the deployment's own network (SSRF). By default only https, and
 * never an address in a private, shared (CGNAT), loopback, link-local (cloud metadata at
 * 169.254.169.254), unique-local (fd00:ec2::254), multicast or reserved range. Checked twice: when the
 * endpoint is registered (its URL, and whatever its host resolves to then), and at every connection
 * against the addresses the host resolves to at that moment — so a name that resolves elsewhere later
 * (DNS rebinding) is still refused. The operator opens exceptions with ZUMIK_EGRESS_ALLOW: CIDR ranges
 * or single addresses, and `http` to allow plain http (e.g. `127.0.0.1/32,10.0.0.0/8,http`).
 * Endpoints the operator configures (provider base URLs, ZUMIK_PROVIDERS_FILE) are not subject to it.
 */
import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** The ranges refused by default, with what they are (for error messages). */
const REFUSED_RANGES: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'this network'],
  ['10.0.0.0', 8, 'ipv4', 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'ipv4', 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['64:ff9b::', 96, 'ipv6', 'NAT64 (embeds an IPv4 address)'],
  ['64:ff9b:1::', 48, 'ipv6', 'NAT64 (embeds an IPv4 address)'],
  ['100::', 64, 'ipv6', 'discard'],
  ['2002::', 16, 'ipv6', '6to4 (embeds an IPv4 address)'],
  ['fc00::', 7, 'ipv6', 'unique local (cloud metadata)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** Each refused range on its own, to name the one an address falls in. */
const NAMED_RANGES = REFUSED_RANGES.map(([network, prefix, type, name]) => {
  const range = new BlockList();
  range.addSubnet(network, prefix, type);
  return { range, name };
});

/** Names that reach a cloud's metadata service without an address in the URL. */
const REFUSED_NAMES = /^(localhost|metadata|metadata\.google\.internal|instance-data(\.ec2\.internal)?)$|\.localhost$/i;

/** Thrown (as a connection error) when a connection would reach a refused address. */
export class EgressRefusedError extends Error {
  readonly code = 'ZUMIK_EGRESS_REFUSED';
  constructor(readonly host: string, readonly address: string, readonly range: string) {
    super(`egress to ${host} (${address}, ${range}) is refused by the egress rules; an operator may allow it with ZUMIK_EGRESS_ALLOW`);
    this.name = 'EgressRefusedError';
  }
}

type Resolver = (hostname: string, options: dns.LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

export class EgressPolicy {
  private readonly refused = new BlockList();
  private readonly allowed = new BlockList();
  /** Plain http allowed (`http` in the allow-list). */
  readonly allowHttp: boolean;

  /**
   * `allow`: ZUMIK_EGRESS_ALLOW's entries, comma-separated; throws naming a bad entry. `resolve`: how
   * names are resolved (dns.lookup; tests inject one that answers what a rebinding DNS server would).
   */
  constructor(allow = '', private readonly resolve: Resolver = dns.lookup as unknown as Resolver) {
    for (const [network, prefix, type] of REFUSED_RANGES) this.refused.addSubnet(network, prefix, type);
    let allowHttp = false;
    for (const entry of allow.split(',').map((part) => part.trim()).filter(Boolean)) {
      if (entry.toLowerCase() === 'http') { allowHttp = true; continue; }
      const [network = '', prefixText, ...rest] = entry.split('/');
      const type = isIP(network);
      const prefix = prefixText === undefined ? (type === 6 ? 128 : 32) : Number(prefixText);
      if (type === 0 || rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === 6 ? 128 : 32)) {
        throw new Error(`'${entry}' is not an address, a CIDR range (10.0.0.0/8, fd00::/8) or 'http'`);
      }
      this.allowed.addSubnet(network, prefix, type === 6 ? 'ipv6' : 'ipv4');
    }
    this.allowHttp = allowHttp;
  }

  /** Why an address is refused (its range), or undefined when a connection to it is allowed. */
  refusal(address: string): string | undefined {
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(address, type)) return undefined;
    if (!this.refused.check(address, type)) return undefined;
    return NAMED_RANGES.find(({ range }) => range.check(address, type))?.name ?? 'refused range';
  }

  /**
   * Why a customer-supplied URL is refused at registration, or undefined. Its scheme and a literal
   * address are checked, and a name is resolved now (a name that does not resolve is accepted: the
   * connection is checked again anyway).
   */
  async urlProblem(url: string): Promise<string | undefined> {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && this.allowHttp)) {
      return 'base_url must use https (an operator may allow http with ZUMIK_EGRESS_ALLOW)';
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [host] : REFUSED_NAMES.test(host) ? ['127.0.0.1'] : await this.addressesOf(host);
    for (const address of addresses) {
      const range = this.refusal(address);
      if (range) return `base_url must not reach a ${range} address (${host} is ${address}); an operator may allow it with ZUMIK_EGRESS_ALLOW`;
    }
    return undefined;
  }

  /** Refuse a literal address before connecting (net.connect skips `lookup` for those). */
  checkHost(hostname: string): void {
    const host = hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) === 0) return;
    const range = this.refusal(host);
    if (range) throw new EgressRefusedError(host, host, range);
  }

  /** A `lookup` for net/tls.connect: resolves, and fails the connection if any address is refused. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      for (const { address } of addresses) {
        const range = this.refusal(address);
        if (range) return callback(new EgressRefusedError(hostname, address, range) as unknown as NodeJS.ErrnoException, '', 0);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (error: null, addresses: dns.LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    });
  };

  /** What a name resolves to now; nothing when it does not resolve within 2 s (the connection is checked anyway). */
  private addressesOf(host: string): Promise<string[]> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve([]), 2_000);
      this.resolve(host, { all: true }, (error, addresses) => {
        clearTimeout(timer);
        resolve(error ? [] : addresses.map((entry) => entry.address));
      });
    });
  }
}
