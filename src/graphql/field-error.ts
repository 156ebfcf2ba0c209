// One problem with one field of an input, for payloads that report per-item problems.
import { Field, ObjectType } from "type-graphql";
import type { FieldIssue } from "../errors";

@ObjectType({ description: "A problem with one field of an input." })
export class FieldError {
  @Field({ description: "The field, as a dotted path within the input (e.g. `email`, `conversionData`)." })
  field: string;

  @Field()
  message: string;
}

export function toFieldErrors(issues: FieldIssue[]): FieldError[] {
  return issues.map((issue) => ({ field: issue.path.join(".") || "input", message: issue.message }));
}
