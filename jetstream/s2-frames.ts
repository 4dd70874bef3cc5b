/**
 * The framing of a JetStream snapshot: nats-server compresses it as an S2 stream (klauspost's
 * compress/s2: Snappy's framing format, with S2's block extensions), and a restore reads the same
 * format. A restore on nats-server 2.14+ stores the snapshot message by message as it reads it,
 * one S2 block at a time (up to 1 MiB of messages), and gives up when a block takes longer than
 * 5 s (its stall watchdog); on a store with `sync_interval: always` every message is fsynced, so a
 * block of small KV entries takes longer than that. Reading the snapshot's blocks and sending
 * their data again in small uncompressed frames keeps every piece the server reads short. The
 * format: https://github.com/klauspost/compress/tree/master/s2#format-extensions and Snappy's
 * framing_format.txt.
 */

const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_STREAM_IDENTIFIER = 0xff;
const S2_MAGIC = "S2sTwO";
const SNAPPY_MAGIC = "sNaPpY";
/** S2's largest block; a frame that says it holds more is corrupt. */
const MAX_BLOCK = 4 << 20;

/** CRC-32C (Castagnoli), the checksum the framing format puts on every frame's data. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The framing format stores each checksum masked, so data holding checksums checksums well. */
export function maskedCrc(data: Uint8Array): number {
  const c = crc32c(data);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

class S2FormatError extends Error {
  constructor(what: string) {
    super(`the snapshot is not a valid S2 stream: ${what}`);
  }
}

/** A little-endian uvarint at `at`: its value and its length. */
function uvarint(src: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const byte = src[at + i];
    if (byte === undefined) throw new S2FormatError("a block's length is cut short");
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return [value, i + 1];
  }
  throw new S2FormatError("a block's length is too long");
}

const le = (src: Uint8Array, at: number, bytes: number): number => {
  let value = 0;
  for (let i = bytes - 1; i >= 0; i--) value = value * 256 + (src[at + i] ?? 0);
  return value;
};

/** Decodes one S2 block (Snappy's block format plus S2's repeat-offset copies). */
export function decodeBlock(src: Uint8Array): Uint8Array {
  const [length, header] = uvarint(src, 0);
  if (length > MAX_BLOCK) throw new S2FormatError(`a block of ${String(length)} bytes`);
  const dst = new Uint8Array(length);
  let s = header;
  let d = 0;
  let offset = 0;
  const need = (n: number): void => {
    if (s + n > src.length) throw new S2FormatError("a block ends inside an element");
  };
  while (s < src.length) {
    const tag = src[s] ?? 0;
    let copyLength: number;
    if ((tag & 0x03) === 0) {
      let literal = tag >>> 2;
      if (literal < 60) s += 1;
      else {
        const extra = literal - 59;
        need(1 + extra);
        literal = le(src, s + 1, extra);
        s += 1 + extra;
      }
      literal += 1;
      need(literal);
      if (d + literal > length) throw new S2FormatError("a literal runs past the block");
      dst.set(src.subarray(s, s + literal), d);
      d += literal;
      s += literal;
      continue;
    }
    if ((tag & 0x03) === 1) {
      need(2);
      const toffset = ((tag & 0xe0) << 3) | (src[s + 1] ?? 0);
      copyLength = (tag >>> 2) & 0x07;
      s += 2;
      if (toffset === 0) {
        // S2: a repeat of the last offset, with a longer length encoding.
        if (copyLength === 5) {
          need(1);
          copyLength = (src[s] ?? 0) + 4;
          s += 1;
        } else if (copyLength === 6) {
          need(2);
          copyLength = le(src, s, 2) + (1 << 8);
          s += 2;
        } else if (copyLength === 7) {
          need(3);
          copyLength = le(src, s, 3) + (1 << 16);
          s += 3;
        }
      } else offset = toffset;
      copyLength += 4;
    } else if ((tag & 0x03) === 2) {
      need(3);
      copyLength = 1 + (tag >>> 2);
      offset = le(src, s + 1, 2);
      s += 3;
    } else {
      need(5);
      copyLength = 1 + (tag >>> 2);
      offset = le(src, s + 1, 4);
      s += 5;
    }
    if (offset <= 0 || d < offset || copyLength > length - d)
      throw new S2FormatError("a copy reaches outside the block");
    if (offset >= copyLength) dst.copyWithin(d, d - offset, d - offset + copyLength);
    else for (let i = 0; i < copyLength; i++) dst[d + i] = dst[d + i - offset] ?? 0;
    d += copyLength;
  }
  if (d !== length) throw new S2FormatError(`a block decodes to ${String(d)} bytes, not ${String(length)}`);
  return dst;
}

/**
 * Reads an S2 (or Snappy) framed stream fed in pieces of any size, and hands out the data of each
 * frame in order, checksums checked.
 */
export class S2StreamReader {
  private pending: Uint8Array = new Uint8Array(0);
  private started = false;

  /** Adds `piece`; returns the data of every frame it completed. */
  push(piece: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.pending.length + piece.length);
    joined.set(this.pending);
    joined.set(piece, this.pending.length);
    const out: Uint8Array[] = [];
    let at = 0;
    while (joined.length - at >= 4) {
      const type = joined[at] ?? 0;
      const length = le(joined, at + 1, 3);
      if (joined.length - at - 4 < length) break;
      const body = joined.subarray(at + 4, at + 4 + length);
      at += 4 + length;
      const data = this.frame(type, body);
      if (data !== undefined) out.push(data);
    }
    this.pending = joined.slice(at);
    return out;
  }

  /** Throws unless the stream ended at a frame's end. */
  end(): void {
    if (this.pending.length > 0)
      throw new S2FormatError(`it ends inside a frame (${String(this.pending.length)} bytes)`);
    if (!this.started) throw new S2FormatError("it is empty");
  }

  private frame(type: number, body: Uint8Array): Uint8Array | undefined {
    if (type === CHUNK_STREAM_IDENTIFIER) {
      const magic = Buffer.from(body).toString("latin1");
      if (magic !== S2_MAGIC && magic !== SNAPPY_MAGIC) throw new S2FormatError(`stream identifier ${magic}`);
      this.started = true;
      return undefined;
    }
    if (!this.started) throw new S2FormatError("data before the stream identifier");
    // 0x80–0xfe: skippable (padding, S2's index); 0x02–0x7f: reserved, must not be skipped.
    if (type >= 0x80) return undefined;
    if (type !== CHUNK_COMPRESSED && type !== CHUNK_UNCOMPRESSED) throw new S2FormatError(`frame type ${String(type)}`);
    if (body.length < 4) throw new S2FormatError("a frame too short for its checksum");
    const checksum = le(body, 0, 4);
    const data = type === CHUNK_COMPRESSED ? decodeBlock(body.subarray(4)) : body.slice(4);
    if (maskedCrc(data) !== checksum) throw new S2FormatError("a frame's checksum does not match its data");
    return data;
  }
}

/** The stream identifier every S2 stream starts with. */
export function streamIdentifier(): Uint8Array {
  return new Uint8Array([CHUNK_STREAM_IDENTIFIER, S2_MAGIC.length, 0, 0, ...Buffer.from(S2_MAGIC, "latin1")]);
}

/** `data` as one uncompressed frame (at most 4 MiB). */
export function uncompressedFrame(data: Uint8Array): Uint8Array {
  if (data.length > MAX_BLOCK)
    throw new Error(`a frame holds at most ${String(MAX_BLOCK)} bytes, not ${String(data.length)}`);
  const length = data.length + 4;
  const frame = new Uint8Array(4 + length);
  frame[0] = CHUNK_UNCOMPRESSED;
  frame[1] = length & 0xff;
  frame[2] = (length >>> 8) & 0xff;
  frame[3] = (length >>> 16) & 0xff;
  const checksum = maskedCrc(data);
  for (let i = 0; i < 4; i++) frame[4 + i] = (checksum >>> (8 * i)) & 0xff;
  frame.set(data, 8);
  return frame;
}
