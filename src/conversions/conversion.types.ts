// GraphQL inputs and payloads of the conversions domain.
import { GraphQLJSON } from "graphql-scalars";
import { ArgsType, Field, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { EMAIL_MAX_LENGTH } from "../contacts/email";
import { connectionType } from "../graphql/connection";
import { FieldError } from "../graphql/field-error";
import { Conversion } from "./conversion.entity";
import {
  CONVERSIONS_DEFAULT_PAGE,
  CONVERSIONS_MAX_PAGE,
  type ContactErasure,
  type ConversionFilter,
  type LogConversionResult,
  type LogConversionStatus,
} from "./conversion.service";
import {
  CONVERSION_DATA_MAX_BYTES,
  CONVERSION_DATA_MAX_DEPTH,
  CONVERSION_TYPE_MAX_LENGTH,
  type RawLogConversionInput,
} from "./log-conversion.input";

export const LogConversionStatusEnum = {
  ACCEPTED: "ACCEPTED",
  CONTACT_NOT_FOUND: "CONTACT_NOT_FOUND",
  INVALID: "INVALID",
} as const;
registerEnumType(LogConversionStatusEnum, {
  name: "LogConversionStatus",
  valuesConfig: {
    ACCEPTED: { description: "The email is a contact of the organisation: the event is stored (REST: 202)." },
    CONTACT_NOT_FOUND: { description: "The email is no contact of the organisation: nothing is stored (REST: 200)." },
    INVALID: { description: "An item of logConversions that is not valid (see errors): nothing is stored for it." },
  },
});

@InputType("LogConversionInput", { description: "A conversion of a contact, as logged by POST /api/v2/conversions." })
export class LogConversionInputGql implements RawLogConversionInput {
  @Field({
    description: `The contact's email; matched case-insensitively after trimming. At most ${EMAIL_MAX_LENGTH} characters.`,
  })
  email: string;

  @Field(() => String, { nullable: true, description: `At most ${CONVERSION_TYPE_MAX_LENGTH} characters.` })
  conversionType?: string | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: `A JSON object: at most ${CONVERSION_DATA_MAX_BYTES / 1024} KiB as JSON, ${CONVERSION_DATA_MAX_DEPTH} levels deep.`,
  })
  conversionData?: unknown;

  @Field(() => String, {
    nullable: true,
    description:
      "Idempotency-Key (1-255 visible ASCII characters): a repeat of the same request replays the first answer and stores nothing; the same key with a different request is BAD_USER_INPUT.",
  })
  idempotencyKey?: string | null;
}

@ObjectType()
export class LogConversionPayload implements Omit<LogConversionResult, "issues"> {
  @Field(() => LogConversionStatusEnum)
  status: LogConversionStatus;

  @Field(() => Conversion, { nullable: true, description: "The stored event, when status is ACCEPTED." })
  conversion: Conversion | null;

  @Field({ description: "True when an earlier request with the same idempotencyKey stored the event." })
  replayed: boolean;

  @Field(() => [FieldError], { description: "Why the input is INVALID; empty otherwise." })
  errors: FieldError[];
}

@ObjectType({ description: "What eraseContact deleted." })
export class EraseContactPayload implements ContactErasure {
  @Field(() => Int, { description: "1 when the email was a contact of the organisation, else 0." })
  contacts: number;

  @Field(() => Int, { description: "The conversions of that contact that were deleted." })
  conversions: number;
}

@ArgsType()
export class ConversionsArgs implements ConversionFilter {
  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  conversionType?: string | null;

  @Field(() => Date, { nullable: true, description: "Received at or after this instant." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Received at or before this instant." })
  to?: Date | null;

  @Field(() => Int, {
    nullable: true,
    description: `Page size: ${CONVERSIONS_DEFAULT_PAGE} by default, capped at ${CONVERSIONS_MAX_PAGE}.`,
  })
  first?: number | null;

  @Field(() => String, { nullable: true, description: "The endCursor of the previous page." })
  after?: string | null;
}

export const ConversionConnection = connectionType<Conversion>("Conversion", Conversion);
