// GraphQL entry points of the contacts domain.
import { Arg, Ctx, Field, Int, Mutation, ObjectType, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";

@ObjectType()
export class UpsertContactsPayload {
  @Field(() => Int, { description: "Emails that were not yet contacts." })
  added: number;

  @Field(() => Int, { description: "Emails that already were contacts (or repeated in the list)." })
  existing: number;
}

@Resolver()
export class ContactResolver {
  @Mutation(() => UpsertContactsPayload, {
    description: "Adds emails as contacts of the caller's organisation; idempotent; at most 1000 per call.",
  })
  async upsertContacts(
    @Arg("emails", () => [String]) emails: string[],
    @Ctx() context: GraphQLContext,
  ): Promise<UpsertContactsPayload> {
    const { organisationId } = await context.principal();
    return context.services.contacts.upsert(organisationId, emails);
  }
}
