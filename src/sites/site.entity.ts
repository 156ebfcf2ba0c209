// A registered site host: public calls made to it belong to its organisation.
import { Column, Entity, Index, PrimaryColumn } from "typeorm";

@Entity({ name: "sites" })
export class Site {
  /** Lower-cased host name without port. */
  @PrimaryColumn({ type: "varchar", length: 253 })
  host: string;

  @Index("idx_sites_organisation")
  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;
}
