// GraphQL inputs and payloads of the conversions domain.
import { GraphQLJSON } from "graphql-scalars";
import { ArgsType, Field, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Conversion } from "./conversion.entity";
import type { LogConversionStatus } from "./conversion.service";

export const LogConversionStatusEnum = { ACCEPTED: "ACCEPTED", CONTACT_NOT_FOUND: "CONTACT_NOT_FOUND" } as const;
registerEnumType(LogConversionStatusEnum, {
  name: "LogConversionStatus",
  valuesConfig: {
    ACCEPTED: { description: "The email is a contact of the organisation: the event is stored (REST: 202)." },
    CONTACT_NOT_FOUND: { description: "The email is no contact of the organisation: nothing is stored (REST: 200)." },
  },
});

@InputType("LogConversionInput", { description: "A conversion of a contact, as logged by POST /api/v2/conversions." })
export class LogConversionInputGql {
  @Field({ description: "The contact's email; matched case-insensitively after trimming. At most 320 characters." })
  email: string;

  @Field(() => String, { nullable: true, description: "At most 63 characters." })
  conversionType?: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: "A JSON object: at most 32 KiB as JSON, 16 levels deep." })
  conversionData?: unknown;
}

@ObjectType()
export class LogConversionPayload {
  @Field(() => LogConversionStatusEnum)
  status: LogConversionStatus;

  @Field(() => Conversion, { nullable: true, description: "The stored event, when status is ACCEPTED." })
  conversion: Conversion | null;
}

@ArgsType()
export class ConversionsArgs {
  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  conversionType?: string | null;

  @Field(() => Date, { nullable: true, description: "Received at or after this instant." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Received at or before this instant." })
  to?: Date | null;

  @Field(() => Int, { nullable: true, description: "Page size: 20 by default, capped at 100." })
  first?: number | null;

  @Field(() => String, { nullable: true, description: "The endCursor of the previous page." })
  after?: string | null;
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field()
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true })
  startCursor: string | null;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

@ObjectType()
export class ConversionEdge {
  @Field()
  cursor: string;

  @Field(() => Conversion)
  node: Conversion;
}

@ObjectType()
export class ConversionConnection {
  @Field(() => [ConversionEdge])
  edges: ConversionEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}
