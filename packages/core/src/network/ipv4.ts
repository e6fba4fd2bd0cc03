/** Small IPv4 helpers: /24 subnets are all Lago leases. */
export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0)
}

export function intToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.')
}

/** The network address of the /24 holding `ip`. */
export function subnet24(ip: string): string {
  return intToIp(Math.floor(ipToInt(ip) / 256) * 256)
}

export function hostInSubnet(subnet: string, host: number): string {
  return intToIp(ipToInt(subnet) + host)
}

export function lastOctet(ip: string): number {
  return Number(ip.split('.')[3])
}

/** MAC derived from the address, as the original did: 54:52 + the four octets. */
export function macForIp(ip: string): string {
  return ['54', '52', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':')
}

export function cidrOverlaps(a: {base: number; bits: number}, b: {base: number; bits: number}): boolean {
  const bits = Math.min(a.bits, b.bits)
  const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits)
  return (a.base & mask) >>> 0 === (b.base & mask) >>> 0
}
