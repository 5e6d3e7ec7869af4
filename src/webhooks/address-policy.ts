import { lookup } from 'node:dns/promises';
import net from 'node:net';

/**
 * Where a webhook may go. Never to this host or its network neighbours (SSRF): loopback, private,
 * carrier-grade NAT, link-local (which holds the cloud metadata address 169.254.169.254), unique-
 * local, multicast, reserved and unspecified ranges, IPv4 and IPv6 (and IPv4 inside IPv6).
 */
const FORBIDDEN = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN.addSubnet(prefix, bits, 'ipv6');
}

/** True when `ip` is in a range a webhook must never reach. */
export function isForbiddenAddress(ip: string): boolean {
  const family = net.isIP(ip);
  if (family === 4) return FORBIDDEN.check(ip, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return FORBIDDEN.check(mapped[1], 'ipv4');
  // ::ffff:7f00:1 (hex form of a mapped IPv4 address)
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (hexMapped) {
    const [hi, lo] = [parseInt(hexMapped[1], 16), parseInt(hexMapped[2], 16)];
    return FORBIDDEN.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
  }
  return FORBIDDEN.check(ip, 'ipv6');
}

export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

export interface UrlPolicy {
  /** Production: https only. */
  httpsOnly: boolean;
  allowPrivate: boolean;
}

/** The URL's own rules (scheme, no credentials); its addresses are checked by `resolveSafe`. */
export function checkUrlShape(text: string, policy: UrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UnsafeUrlError('url must be an absolute http(s) URL');
  }
  const allowed = policy.httpsOnly ? ['https:'] : ['https:', 'http:'];
  if (!allowed.includes(url.protocol))
    throw new UnsafeUrlError(`url must use ${policy.httpsOnly ? 'https' : 'http or https'}`);
  if (url.username !== '' || url.password !== '') throw new UnsafeUrlError('url must not hold credentials');
  if (url.hostname === '') throw new UnsafeUrlError('url must name a host');
  return url;
}

const bare = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves the host and returns the address to connect to: the first one, after checking that NONE
 * of them is forbidden (a host that also resolves to a private address is refused, so a rebinding
 * DNS server cannot pick which one we use). The caller connects to exactly this address.
 */
export async function resolveSafe(
  hostname: string,
  allowPrivate: boolean,
): Promise<{ address: string; family: 4 | 6 }> {
  const host = bare(hostname);
  const literal = net.isIP(host);
  const addresses =
    literal !== 0
      ? [{ address: host, family: literal as 4 | 6 }]
      : await lookup(host, { all: true, verbatim: true }).catch((error: NodeJS.ErrnoException) => {
          throw new UnsafeUrlError(`url host ${host} does not resolve (${error.code ?? error.message})`);
        });
  if (addresses.length === 0) throw new UnsafeUrlError(`url host ${host} does not resolve`);
  if (!allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad)
      throw new UnsafeUrlError(
        `url host ${host} resolves to ${bad.address}, a loopback, private, link-local or reserved address`,
      );
  }
  return { address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}
