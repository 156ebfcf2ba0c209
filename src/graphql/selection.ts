// What an operation asks for below a field, for resolvers whose answer has a costly part a client may leave
// out (domain-free).
import type { GraphQLResolveInfo, SelectionSetNode } from "graphql";

type Selected = Pick<GraphQLResolveInfo, "fieldNodes" | "fragments">;

/**
 * Whether the operation selects, below the field being resolved, the field at `path` (field names, not
 * aliases), through inline fragments and fragment spreads. A field under @skip or @include counts as
 * selected: the answer may show it.
 */
export function selectsField(info: Selected, path: string[]): boolean {
  let sets = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  for (const [depth, name] of path.entries()) {
    const { matched, below } = fieldsNamed(info, sets, name);
    if (!matched) return false;
    if (depth === path.length - 1) return true;
    sets = below;
  }
  return false;
}

/** Whether a field `name` is among the selections of `sets`, and the selection sets below those fields. */
function fieldsNamed(info: Selected, sets: readonly SelectionSetNode[], name: string) {
  let matched = false;
  const below: SelectionSetNode[] = [];
  const spread = new Set<string>();
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === "Field") {
        if (selection.name.value !== name) continue;
        matched = true;
        if (selection.selectionSet) below.push(selection.selectionSet);
      } else if (selection.kind === "InlineFragment") {
        visit(selection.selectionSet);
      } else if (!spread.has(selection.name.value)) {
        // A fragment spread twice at one level is walked once.
        spread.add(selection.name.value);
        const fragment = info.fragments[selection.name.value];
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  for (const set of sets) visit(set);
  return { matched, below };
}
