// A tenant: every other row belongs to exactly one organisation.
import { Column, Entity, PrimaryColumn } from "typeorm";

@Entity({ name: "organisations" })
export class Organisation {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 200 })
  name: string;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;
}
