// A contact of an organisation, known by its normalised email (trimmed, lower-cased).
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { EXACT_COLLATION } from "../db/collation";

@Entity({ name: "contacts" })
@Index("uq_contacts_organisation_email", ["organisationId", "email"], { unique: true })
export class Contact {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ type: "varchar", length: 320, collation: EXACT_COLLATION })
  email: string;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;
}
