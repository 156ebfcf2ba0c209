// GraphQL entry points of the contacts domain.
import { Arg, Ctx, Field, Int, Mutation, ObjectType, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { type ContactService, UPSERT_MAX_EMAILS, type UpsertCounts } from "./contact.service";

@ObjectType()
export class UpsertContactsPayload implements UpsertCounts {
  @Field(() => Int, { description: "Emails that were not yet contacts." })
  added: number;

  @Field(() => Int, { description: "Emails that already were contacts (or repeated in the list)." })
  existing: number;
}

@Resolver()
export class ContactResolver {
  @Mutation(() => UpsertContactsPayload, {
    description: `Adds emails as contacts of the caller's organisation; idempotent; at most ${UPSERT_MAX_EMAILS} per call.`,
  })
  async upsertContacts(
    @Arg("emails", () => [String]) emails: string[],
    @Ctx() context: GraphQLContext<{ contacts: ContactService }>,
  ): Promise<UpsertContactsPayload> {
    const { organisationId } = await context.principal();
    return context.services.contacts.upsert(organisationId, emails);
  }
}
