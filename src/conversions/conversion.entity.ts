// A conversion event logged for a contact: the row, and its GraphQL type.
import { GraphQLJSON } from "graphql-scalars";
import { Directive, Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from "typeorm";
import { Contact } from "../contacts/contact.entity";
import { EXACT_COLLATION } from "../db/collation";
import { jsonColumnTransformer } from "../db/json-column";

@Directive('@key(fields: "id")')
@ObjectType({ description: "A conversion event logged for a contact of the caller's organisation." })
@Entity({ name: "conversions" })
@Index("idx_conversions_organisation_created", ["organisationId", "createdAt", "id"])
@Index("idx_conversions_contact_created", ["contactId", "createdAt"])
export class Conversion {
  @Field(() => ID)
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "contact_id", type: "varchar", length: 36 })
  contactId: string;

  /**
   * The database holds every conversion to an existing contact: an insert checks (and share-locks)
   * its contact row itself, so a write racing an erasure waits for it and is refused, with no
   * lookup of its own. Never loaded: the id above is what the service reads.
   */
  @ManyToOne(() => Contact, { createForeignKeyConstraints: true, onDelete: "NO ACTION", onUpdate: "NO ACTION" })
  @JoinColumn({ name: "contact_id", referencedColumnName: "id", foreignKeyConstraintName: "fk_conversions_contact" })
  contact?: Contact;

  @Field({ description: "The contact's email, normalised (trimmed, lower-cased)." })
  @Column({ type: "varchar", length: 320, collation: EXACT_COLLATION })
  email: string;

  @Field(() => String, { nullable: true })
  @Column({ name: "conversion_type", type: "varchar", length: 63, nullable: true, collation: EXACT_COLLATION })
  conversionType: string | null;

  @Field(() => GraphQLJSON, { nullable: true })
  @Column({ name: "conversion_data", type: "json", nullable: true, transformer: jsonColumnTransformer })
  conversionData: Record<string, unknown> | null;

  @Field(() => Date, { description: "When the event was received (UTC)." })
  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;
}
