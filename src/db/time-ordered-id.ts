// Ids of rows written in bulk that sort by creation time: UUID version 7 (RFC 9562, section 5.7),
// a 48-bit Unix time in milliseconds followed by random bits. Inserted in about key order, a
// table's primary key (and the batch_id indexes) grows at its right edge instead of touching a
// random page per row, so InnoDB's cost per insert stays flat once the table outgrows the buffer
// pool. To every reader it is still a UUID.
import { randomFillSync } from "node:crypto";

const IDS_PER_REFILL = 256;
const pool = Buffer.alloc(16 * IDS_PER_REFILL);
let next = IDS_PER_REFILL;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** A version 7 UUID for `now` (epoch ms): ids of later milliseconds sort after earlier ones. */
export function timeOrderedUuid(now = Date.now()): string {
  if (next === IDS_PER_REFILL) {
    randomFillSync(pool);
    next = 0;
  }
  const at = 16 * next++;
  const high = Math.floor(now / 0x1000000); // the upper 24 of the 48 time bits
  const low = now % 0x1000000;
  const hex = (byte: number) => HEX[byte & 0xff];
  return (
    hex(high >>> 16) +
    hex(high >>> 8) +
    hex(high) +
    hex(low >>> 16) +
    "-" +
    hex(low >>> 8) +
    hex(low) +
    "-" +
    hex(0x70 | (pool[at + 6] & 0x0f)) +
    hex(pool[at + 7]) +
    "-" +
    hex(0x80 | (pool[at + 8] & 0x3f)) +
    hex(pool[at + 9]) +
    "-" +
    hex(pool[at + 10]) +
    hex(pool[at + 11]) +
    hex(pool[at + 12]) +
    hex(pool[at + 13]) +
    hex(pool[at + 14]) +
    hex(pool[at + 15])
  );
}
