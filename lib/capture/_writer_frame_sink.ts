/** A {@link FrameSink} that builds TcpFlow frames in place in a capture writer's buffer. */
import type { FrameSink } from "../net/tcp_flow.ts";
import type { Direction } from "../net/types.ts";
import type { InPlaceCaptureWriter, RecordInfo } from "../pcap/types.ts";

/**
 * Where a flow's frames go: straight into the channel writer's buffer (zero-copy), one record
 * per frame, all frames of one packet with the same time; the comment goes on the first frame
 * carrying payload. One per session, retargeted per packet.
 */
export class WriterFrameSink implements FrameSink {
  writer!: InPlaceCaptureWriter;
  seconds = 0;
  nanoseconds = 0;
  /** Comment still to put on the next payload-carrying frame. */
  comment: string | undefined;
  /** Payload-carrying frames written since the last reset. */
  dataFrames = 0;
  readonly #info: RecordInfo = { direction: undefined, comment: undefined };

  get buffer(): Uint8Array {
    return this.writer.recordBytes;
  }

  // Positional parameters: TcpFlow calls this for every frame it builds.
  reserve(frameLength: number, direction: Direction, payloadLength: number): number {
    const info = this.#info;
    info.direction = direction === "toServer" ? "outbound" : "inbound";
    info.comment = undefined;
    if (payloadLength > 0) {
      this.dataFrames++;
      info.comment = this.comment;
      this.comment = undefined;
    }
    return this.writer.beginRecord(this.seconds, this.nanoseconds, frameLength, info);
  }

  commit(): void {
    this.writer.commitRecord();
  }
}
