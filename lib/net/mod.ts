/**
 * Network layers of spicecap: building Ethernet/IPv4/TCP frames with correct checksums
 * ({@link buildFrame}, {@link writeFrame}), the synthetic TCP connection of each captured channel
 * ({@link TcpFlow}), decoding frames of any common link type ({@link decodePacket}), reassembling
 * foreign TCP streams ({@link TcpReassembler}) and filter
 * expressions ({@link parseFilter}).
 *
 * Pure code: no I/O, no clocks.
 *
 * @example
 * ```ts
 * const flow = new TcpFlow({ clientIp: ipv4ToNumber("10.0.0.1"), serverIp: ipv4ToNumber("10.0.0.2"), clientPort: 10001, serverPort: 5930 });
 * for (const f of flow.send("toServer", bytes)) {
 *   const p = decodePacket(f.frame, 1, { verifyChecksums: true }); // p.problems is []
 * }
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./checksum.ts";
export * from "./ipv4.ts";
export * from "./frame.ts";
export * from "./decode.ts";
export * from "./tcp_flow.ts";
export * from "./reassembly.ts";
export * from "./filter.ts";
