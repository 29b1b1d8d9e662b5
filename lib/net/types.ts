/** Types shared by the frame codecs, flows and filters. */

/** TCP header flag bits. */
export const TCP_FLAGS: Readonly<{
  FIN: 0x01;
  SYN: 0x02;
  RST: 0x04;
  PSH: 0x08;
  ACK: 0x10;
  URG: 0x20;
}> = Object.freeze(
  {
    FIN: 0x01,
    SYN: 0x02,
    RST: 0x04,
    PSH: 0x08,
    ACK: 0x10,
    URG: 0x20,
  } as const,
);

/** IP protocol numbers used by the decoder and filters. */
export const IP_PROTOCOL: Readonly<{ ICMP: 1; TCP: 6; UDP: 17; ICMP6: 58 }> = Object.freeze(
  { ICMP: 1, TCP: 6, UDP: 17, ICMP6: 58 } as const,
);

/** Everything needed to build one Ethernet II + IPv4 + TCP frame. */
export interface FrameSpec {
  /** 6 bytes. @default 02:00:00:00:00:01 */
  srcMac?: Uint8Array;
  /** 6 bytes. @default 02:00:00:00:00:02 */
  dstMac?: Uint8Array;
  /** IPv4 source address as an unsigned 32-bit number (10.0.0.1 = 0x0a000001). */
  srcIp: number;
  /** IPv4 destination address as an unsigned 32-bit number. */
  dstIp: number;
  /** TCP source port, 0..65535. */
  srcPort: number;
  /** TCP destination port, 0..65535. */
  dstPort: number;
  /** TCP sequence number, unsigned 32-bit. */
  seq: number;
  /** TCP acknowledgement number, unsigned 32-bit (meaningful with the ACK flag). */
  ack: number;
  /** Bitwise OR of {@link TCP_FLAGS}. */
  flags: number;
  /** Advertised TCP receive window, bytes (no window scaling). @default 65535 */
  window?: number;
  /** IPv4 identification. @default 0 */
  ipId?: number;
  /** IPv4 time to live, hops. @default 64 */
  ttl?: number;
}

/** TCP header fields of a decoded packet. */
export interface TcpInfo {
  /** Sequence number, unsigned 32-bit. */
  seq: number;
  /** Acknowledgement number, unsigned 32-bit. */
  ack: number;
  /** Flag bits, see {@link TCP_FLAGS}. */
  flags: number;
  /** Advertised receive window as in the header, unscaled. */
  window: number;
  /** TCP header length in bytes, options included (data offset × 4). */
  headerLength: number;
}

/** A link-layer frame decoded down to its transport payload. Never throws; see `problems`. */
export interface DecodedPacket {
  /** 4, 6, or 0 when the frame carries no IP. */
  ipVersion: 0 | 4 | 6;
  /** Dotted IPv4 or RFC 5952 IPv6 text; "" when absent. */
  srcIp: string;
  /** Destination address, same form as `srcIp`. */
  dstIp: string;
  /** IP protocol number; -1 when there is no IP layer. */
  protocol: number;
  /** 0 when the transport has no ports. */
  srcPort: number;
  /** Transport destination port; 0 when the transport has no ports. */
  dstPort: number;
  /** TCP header fields; absent when not TCP or fewer than 20 TCP header bytes were captured. */
  tcp?: TcpInfo;
  /** Transport payload (TCP/UDP data), a view into the frame. */
  payload: Uint8Array;
  /**
   * Bad lengths, bad checksums, unsupported link types: reported, not thrown. Read-only: a
   * packet without problems shares one frozen empty list.
   */
  problems: readonly string[];
  /** IPv4 source as an unsigned 32-bit number (absent for IPv6), for fast filtering. */
  srcIpNumber?: number;
  /** IPv4 destination as an unsigned 32-bit number (absent for IPv6). */
  dstIpNumber?: number;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl?: number;
  /** IPv4 identification (absent for IPv6). */
  ipId?: number;
  /** IPv4 total length, or IPv6 payload length + 40, as stated in the header. */
  ipLength?: number;
  /** True when the captured bytes end before the IP packet does (snap length). */
  truncated?: boolean;
  /** ICMP or ICMPv6 type and code. */
  icmp?: { type: number; code: number };
}

/**
 * Which way bytes travel between a SPICE client and server: "toServer" (client → server) or
 * "toClient" (server → client). The project's one name for a direction; hot paths that carry
 * it per unit use the boolean `fromClient` (true = "toServer") instead.
 */
export type Direction = "toServer" | "toClient";
