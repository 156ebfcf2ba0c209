// GraphQL entry points of the contacts domain.
import { Arg, Ctx, Field, FieldResolver, Int, Mutation, ObjectType, Resolver, Root } from "type-graphql";
import { Conversion } from "../conversions/conversion.entity";
import type { GraphQLContext } from "../graphql/context";
import { ContactNode } from "./contact.node";

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

/** The fields this subgraph contributes to Contact, each one SQL statement per request. */
@Resolver(() => ContactNode)
export class ContactConversionsResolver {
  @FieldResolver(() => [Conversion], { description: "The contact's conversions, newest first (at most 100)." })
  async conversions(
    @Root() contact: ContactNode,
    @Ctx() context: GraphQLContext,
    // Parameter decorators run last to first: declared in reverse to print (first, conversionType).
    @Arg("conversionType", () => String, { nullable: true }) conversionType?: string | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 10 }) first?: number | null,
  ): Promise<Conversion[]> {
    const loaders = await context.loaders();
    return loaders.contactConversions.load({
      email: contact.email,
      first: first ?? 10,
      conversionType: conversionType ?? null,
    });
  }

  @FieldResolver(() => Int, { description: "How many conversions the contact has (of a type, when given)." })
  async conversionCount(
    @Root() contact: ContactNode,
    @Ctx() context: GraphQLContext,
    @Arg("conversionType", () => String, { nullable: true }) conversionType?: string | null,
  ): Promise<number> {
    const loaders = await context.loaders();
    return loaders.contactConversionCount.load({ email: contact.email, conversionType: conversionType ?? null });
  }
}
