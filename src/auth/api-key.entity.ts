// An organisation's API key. Only the SHA-256 of the key is stored; the prefix finds the row.
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { EXACT_COLLATION } from "../db/collation";

@Entity({ name: "api_keys" })
export class ApiKey {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Index("idx_api_keys_organisation")
  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ type: "varchar", length: 200, nullable: true })
  name: string | null;

  /** Public, random part of the key, unique: lets a lookup avoid scanning hashes. */
  @Index("uq_api_keys_prefix", { unique: true })
  @Column({ type: "varchar", length: 32, collation: EXACT_COLLATION })
  prefix: string;

  /** Hex SHA-256 of the whole key. Keys are 256-bit random, so a fast hash is safe here. */
  @Column({ name: "key_hash", type: "varchar", length: 64, collation: EXACT_COLLATION })
  keyHash: string;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;

  @Column({ name: "revoked_at", type: "datetime", precision: 3, nullable: true })
  revokedAt: Date | null;
}
