// Identifiers compared byte for byte, trailing spaces included (SQLite): nothing to change.
// SQLite compares text with its BINARY collation (memcmp, no padding) unless a column says
// otherwise, and none does, so "Purchase", "purchase" and "purchase " were always three values.
// The migration exists so both databases share one migration history (see migrations/mysql).
import type { MigrationInterface } from "typeorm";

export class ExactIdentifiers1764244800000 implements MigrationInterface {
  name = "ExactIdentifiers1764244800000";

  async up(): Promise<void> {}

  async down(): Promise<void> {}
}
