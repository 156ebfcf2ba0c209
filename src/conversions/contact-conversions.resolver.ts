// The fields this subgraph contributes to the Contact entity (owned by the contacts subgraph):
// a contact's conversions, each field one SQL statement per request however many contacts.
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from "type-graphql";
import { ContactNode } from "./contact.node";
import { Conversion } from "./conversion.entity";
import { type ConversionContext, createConversionLoaders } from "./conversion.loaders";
import { CONVERSIONS_MAX_PAGE } from "./conversion.service";

const CONTACT_CONVERSIONS_DEFAULT = 10;

@Resolver(() => ContactNode)
export class ContactConversionsResolver {
  @FieldResolver(() => [Conversion], {
    description: `The contact's conversions, newest first (at most ${CONVERSIONS_MAX_PAGE}).`,
  })
  async conversions(
    @Root() contact: ContactNode,
    @Ctx() context: ConversionContext,
    // Parameter decorators run last to first: declared in reverse to print (first, conversionType).
    @Arg("conversionType", () => String, { nullable: true }) conversionType?: string | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: CONTACT_CONVERSIONS_DEFAULT }) first?: number | null,
  ): Promise<Conversion[]> {
    const loaders = await context.loaders(createConversionLoaders);
    return loaders.contactConversions.load({
      email: contact.email,
      first: first ?? CONTACT_CONVERSIONS_DEFAULT,
      conversionType: conversionType ?? null,
    });
  }

  @FieldResolver(() => Int, { description: "How many conversions the contact has (of a type, when given)." })
  async conversionCount(
    @Root() contact: ContactNode,
    @Ctx() context: ConversionContext,
    @Arg("conversionType", () => String, { nullable: true }) conversionType?: string | null,
  ): Promise<number> {
    const loaders = await context.loaders(createConversionLoaders);
    return loaders.contactConversionCount.load({ email: contact.email, conversionType: conversionType ?? null });
  }
}
