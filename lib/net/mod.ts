/**
 * Network layers of spicecap: building Ethernet/IPv4/TCP frames with correct checksums
 * ({@link buildFrame}, {@link writeFrame}), the synthetic TCP connection of each captured channel
 * ({@link TcpFlow}), decoding frames of any common link type ({@link decodePacket}), reassembling
 * foreign TCP streams ({@link TcpReassembler}), filter expressions ({@link parseFilter}) and
 * tcpdump-like text lines ({@link formatTextLine}).
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
export { type DecodeOptions, decodePacket } from "./decode.ts";
export { FilterSyntaxError, type Matcher, parseFilter } from "./filter.ts";
export { buildFrame, writeFrame } from "./frame.ts";
export { AddressSyntaxError, ipv4ToNumber, numberToIpv4 } from "./ipv4.ts";
export {
  type ReassemblerOptions,
  type ReassemblyEvent,
  type ReassemblyResult,
  TcpReassembler,
  type TcpSegment,
} from "./reassembly.ts";
export {
  FlowClosedError,
  type FlowFrame,
  type FrameSink,
  TcpFlow,
  type TcpFlowOptions,
} from "./tcp_flow.ts";
export {
  asciiLines,
  formatClock,
  formatTextLine,
  type TextLineOptions,
  type TextLineRecord,
} from "./text_line.ts";
export {
  type DecodedPacket,
  type Direction,
  type FrameSpec,
  IP_PROTOCOL,
  TCP_FLAGS,
  type TcpInfo,
} from "./types.ts";
