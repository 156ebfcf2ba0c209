// GraphQL entry points of the conversions domain: arguments -> ConversionService -> payload.
import { Arg, Args, Ctx, Mutation, Query, Resolver } from "type-graphql";
import { InvalidInput } from "../errors";
import { type Connection, toConnection } from "../graphql/connection";
import { toFieldErrors } from "../graphql/field-error";
import { Conversion } from "./conversion.entity";
import type { ConversionContext } from "./conversion.loaders";
import { LOG_CONVERSIONS_MAX_ITEMS, type LogConversionResult } from "./conversion.service";
import {
  ConversionConnection,
  ConversionsArgs,
  EraseContactPayload,
  LogConversionInputGql,
  LogConversionPayload,
} from "./conversion.types";

function toPayload({ issues, ...result }: LogConversionResult): LogConversionPayload {
  return { ...result, errors: toFieldErrors(issues) };
}

@Resolver(() => Conversion)
export class ConversionResolver {
  @Mutation(() => LogConversionPayload, {
    description: "Logs a conversion of a contact of the caller's organisation (needs X-API-Key).",
  })
  async logConversion(
    @Arg("input") input: LogConversionInputGql,
    @Ctx() context: ConversionContext,
  ): Promise<LogConversionPayload> {
    const { organisationId } = await context.principal();
    return toPayload(await context.services.conversions.logConversion(organisationId, input, context.databaseDeadline));
  }

  @Mutation(() => [LogConversionPayload], {
    description: `Logs many conversions at once (at most ${LOG_CONVERSIONS_MAX_ITEMS}), each as logConversion would; an INVALID item never fails a valid one. Answers in input order once every accepted item is stored.`,
  })
  async logConversions(
    @Arg("inputs", () => [LogConversionInputGql]) inputs: LogConversionInputGql[],
    @Ctx() context: ConversionContext,
  ): Promise<LogConversionPayload[]> {
    const { organisationId } = await context.principal();
    const results = await context.services.conversions
      .logConversions(organisationId, inputs, context.databaseDeadline)
      .catch((error: unknown) => {
        // The service names the list as REST's body does; here it is the `inputs` argument.
        throw error instanceof InvalidInput ? error.renamed("conversions", "inputs") : error;
      });
    return results.map(toPayload);
  }

  @Mutation(() => EraseContactPayload, {
    description:
      "Erases a contact of the caller's organisation and every conversion of it (the right to be forgotten); idempotent.",
  })
  async eraseContact(@Arg("email") email: string, @Ctx() context: ConversionContext): Promise<EraseContactPayload> {
    const { organisationId } = await context.principal();
    return context.services.conversions.eraseContact(organisationId, email);
  }

  @Query(() => ConversionConnection, { description: "The caller's organisation's conversions, newest first." })
  async conversions(@Args() args: ConversionsArgs, @Ctx() context: ConversionContext): Promise<Connection<Conversion>> {
    const { organisationId } = await context.principal();
    const page = await context.services.conversions.list(organisationId, args, args.first, args.after);
    return toConnection({ ...page, nodes: page.conversions }, args.after);
  }
}
