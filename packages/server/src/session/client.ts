import { isIPv6 } from 'node:net'

/** Who is calling, as far as sessions and the audit trail care. */
export interface ClientInfo {
  readonly ip: string
  readonly userAgent: string | null
}

/**
 * The rate-limit bucket of an address. One IPv6 host usually holds a whole /64
 * (SLAAC, privacy addresses), so per-address counting would give it 2^64
 * buckets: IPv6 counts per /64, IPv4 (and IPv4-mapped IPv6) per address.
 */
export function addressBucket(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)
  if (mapped) return mapped[1] as string
  if (!isIPv6(ip)) return ip
  const [head = '', tail = ''] = ip.split('%')[0]!.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  // A trailing dotted quad stands for two groups; it sits past the /64 anyway.
  const missing = 8 - left.length - right.length
  const groups = ip.includes('::')
    ? [...left, ...Array(Math.max(0, missing)).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group || '0', 16).toString(16))
    .join(':')}::/64`
}
