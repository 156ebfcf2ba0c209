// Ids of rows written in bulk that sort by creation time: UUID version 7 (RFC 9562, section 5.7),
// a 48-bit Unix time in milliseconds followed by random bits. Inserted in about key order, a
// table's primary key (and the batch_id indexes) grows at its right edge instead of touching a
// random page per row, so InnoDB's cost per insert stays flat once the table outgrows the buffer
// pool. To every reader it is still a UUID.
import { randomFillSync } from "node:crypto";

const IDS_PER_REFILL = 256;
const pool = Buffer.alloc(16 * IDS_PER_REFILL);
let next = IDS_PER_REFILL;
/** The id's text, written byte by byte and read as one flat string (no chain of concatenations). */
const text = Buffer.from("00000000-0000-7000-8000-000000000000", "latin1");
const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
/** Where each of the 16 bytes goes in the text. */
const BYTE_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** A version 7 UUID for `now` (epoch ms): ids of later milliseconds sort after earlier ones. */
export function timeOrderedUuid(now = Date.now()): string {
  if (next === IDS_PER_REFILL) {
    randomFillSync(pool);
    next = 0;
  }
  const at = 16 * next++;
  const high = Math.floor(now / 0x1000000); // the upper 24 of the 48 time bits
  const low = now % 0x1000000;
  const bytes = [
    high >>> 16,
    high >>> 8,
    high,
    low >>> 16,
    low >>> 8,
    low,
    0x70 | (pool[at + 6] & 0x0f),
    pool[at + 7],
    0x80 | (pool[at + 8] & 0x3f),
  ];
  for (let index = 0; index < 16; index++) {
    const byte = (index < bytes.length ? bytes[index] : pool[at + index]) & 0xff;
    text[BYTE_AT[index]] = HEX_DIGITS[byte >>> 4];
    text[BYTE_AT[index] + 1] = HEX_DIGITS[byte & 0x0f];
  }
  return text.toString("latin1");
}
