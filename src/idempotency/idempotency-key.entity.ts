// One used Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), stored in the same
// transaction as the event it guards. The unique key (organisation, scope, key) decides, across
// instances, which request stored its event; the fingerprint tells a replay from a reuse.
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { EXACT_COLLATION } from "../db/collation";

@Entity({ name: "idempotency_keys" })
@Index("idx_idempotency_keys_created", ["createdAt"])
@Index("idx_idempotency_keys_batch", ["batchId"])
export class IdempotencyKey {
  @PrimaryColumn({ name: "organisation_id", type: "varchar", length: 36, collation: EXACT_COLLATION })
  organisationId: string;

  /** Whose keys: '' for the organisation's API clients, the tracking id for a public visitor. */
  @PrimaryColumn({ type: "varchar", length: 128, collation: EXACT_COLLATION })
  scope: string;

  @PrimaryColumn({ name: "idempotency_key", type: "varchar", length: 255, collation: EXACT_COLLATION })
  idempotencyKey: string;

  /** SHA-256 of the normalised request. */
  @Column({ type: "varchar", length: 64, collation: EXACT_COLLATION })
  fingerprint: string;

  /** What the first request answered, as JSON, for replays. */
  @Column({ type: "text", collation: EXACT_COLLATION })
  response: string;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;

  /** The write batch that inserted the row: tells which claims of a batch won. */
  @Column({ name: "batch_id", type: "varchar", length: 36, collation: EXACT_COLLATION })
  batchId: string;
}
