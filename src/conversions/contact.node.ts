// Federation: Contact is owned by the contacts subgraph; this subgraph adds a contact's
// conversions. Resolving a reference needs no database: the email is all we need.
import { Directive, Field, ObjectType } from "type-graphql";

@Directive('@key(fields: "email")')
@ObjectType("Contact", { description: "A contact (owned by the contacts subgraph), with its conversions." })
export class ContactNode {
  @Field()
  email: string;
}

export function resolveContactReference(reference: { email: string }): ContactNode {
  return Object.assign(new ContactNode(), { email: reference.email });
}
