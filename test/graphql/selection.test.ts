// selectsField: whether an operation asks for a field below the one being resolved, through aliases and
// fragments, as a resolver sees it.
import { type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { selectsField } from "../../src/graphql/selection";

/** The info of the operation's first root field. */
function infoOf(query: string) {
  const document = parse(query);
  const operation = document.definitions.find((definition) => definition.kind === "OperationDefinition") as
    | OperationDefinitionNode
    | undefined;
  const fragments = Object.fromEntries(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === "FragmentDefinition")
      .map((fragment) => [fragment.name.value, fragment]),
  );
  return { fieldNodes: [operation?.selectionSet.selections[0] as FieldNode], fragments };
}

const PATH = ["days", "outcomes", "probabilityToBeBest"];

describe("selectsField", () => {
  it("finds a field selected directly, or under an alias", () => {
    expect(selectsField(infoOf("{ series { days { outcomes { probabilityToBeBest } } } }"), PATH)).toBe(true);
    expect(selectsField(infoOf("{ series { d: days { o: outcomes { p: probabilityToBeBest } } } }"), PATH)).toBe(true);
  });

  it("finds it through inline fragments and fragment spreads, each spread walked once", () => {
    const spread = `{ series { days { ...Day ...Day } } }
      fragment Day on OutcomeDay { outcomes { ... on OutcomeDayStats { ...Figures } } }
      fragment Figures on OutcomeDayStats { pValue probabilityToBeBest }`;
    expect(selectsField(infoOf(spread), PATH)).toBe(true);
  });

  it("counts a field under @skip or @include as selected", () => {
    const query = "query($x: Boolean!) { series { days { outcomes { probabilityToBeBest @include(if: $x) } } } }";
    expect(selectsField(infoOf(query), PATH)).toBe(true);
  });

  it("does not find a field left out, the same name elsewhere, or a path cut short", () => {
    expect(selectsField(infoOf("{ series { days { outcomes { pValue } } } }"), PATH)).toBe(false);
    expect(selectsField(infoOf("{ series { probabilityToBeBest days { day } } }"), PATH)).toBe(false);
    expect(selectsField(infoOf("{ series { days { day } } }"), PATH)).toBe(false);
    expect(selectsField(infoOf("{ series { to } }"), PATH)).toBe(false);
  });

  it("does not loop over fragments that spread each other", () => {
    const query = `{ series { days { ...A } } }
      fragment A on OutcomeDay { ...B }
      fragment B on OutcomeDay { ...A day }`;
    expect(selectsField(infoOf(query), PATH)).toBe(false);
  });
});
