// Creating and finding tenants.
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { InvalidInput, NotFound } from "../errors";
import { Organisation } from "./organisation.entity";

export class OrganisationService {
  constructor(private readonly dataSource: DataSource) {}

  async create(name: string): Promise<Organisation> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 200) {
      throw new InvalidInput([{ path: ["name"], type: "string_length", message: "name must be 1 to 200 characters" }]);
    }
    const organisation = Object.assign(new Organisation(), {
      id: randomUUID(),
      name: trimmed,
      createdAt: new Date(),
    });
    await this.dataSource.getRepository(Organisation).insert(organisation);
    return organisation;
  }

  async require(id: string): Promise<Organisation> {
    const organisation = await this.dataSource.getRepository(Organisation).findOneBy({ id });
    if (!organisation) throw new NotFound(`Unknown organisation: ${id}`);
    return organisation;
  }
}
