// Limits on what one GraphQL operation may ask, all checked before any resolver runs and answered
// 400 with a clear error: nesting depth (a validation rule from graphql-armor), aliases
// (graphql-armor), fields of a group counted together (e.g. public recording mutations), the
// number and shape of `_entities` representations, and cost (graphql-query-complexity: lists
// weighted by `first`, by their known bound, and `_entities` by its number of representations).
import type { ApolloServerPlugin } from "@apollo/server";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  getArgumentValues,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  validate,
} from "graphql";
import { type ComplexityEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";
import { SETTLED, sharedListenerPlugin } from "./shared-listener";

export function depthLimitRule(maxDepth: number) {
  return maxDepthRule({
    n: maxDepth,
    ignoreIntrospection: true,
    flattenFragments: true,
    exposeLimits: false,
    errorMessage: `Query is nested too deeply: the limit is ${maxDepth} levels`,
    // Report as a validation error (400) rather than throw out of validation (500).
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(error)],
  });
}

export interface OperationLimits {
  /** Cost of one operation at most. */
  maxComplexity: number;
  /** Aliased fields of one operation at most, fragments counted where spread. */
  maxAliases: number;
  /** Representations one `_entities` call may carry at most. */
  maxRepresentations: number;
  /** Lists without `first` whose length the service bounds, as "Type.field" -> most items. */
  listSizes?: Record<string, number>;
  /** Root fields counted together: at most `max` of them (aliases included) per operation. */
  fieldGroups?: { description: string; rootType: "Query" | "Mutation"; fields: string[]; max: number }[];
  /**
   * Mutation root fields that are no call of the caller's API key (they have budgets of their own). Every
   * other root field of a mutation counts one call, at least one per mutation: N mutation fields cost a key
   * what N REST requests would. The plugin tells the context once the operation is known, before any
   * resolver asks for the principal.
   */
  uncountedCalls?: readonly string[];
}

/** What the plugin needs of the context: where to say how many calls of its key the request counts. */
export interface CountedCallsContext {
  countCalls(calls: number): void;
}

/** Every list with `first` caps it at 100 whatever is asked. */
const MAX_PAGE_SIZE = 100;

/** A field with a `first` argument returns up to `first` items: its children cost that many times. */
const pageSizeEstimator: ComplexityEstimator = ({ args, childComplexity }) =>
  typeof args.first === "number" ? 1 + Math.min(Math.max(args.first, 0), MAX_PAGE_SIZE) * childComplexity : undefined;

/** `_entities` resolves every representation: its selection costs once per representation. */
const entitiesEstimator: ComplexityEstimator = ({ field, args, childComplexity }) =>
  field.name === "_entities" && Array.isArray(args.representations)
    ? 1 + args.representations.length * childComplexity
    : undefined;

function listSizeEstimator(listSizes: Record<string, number>): ComplexityEstimator {
  return ({ type, field, childComplexity }) => {
    const size = listSizes[`${type.name}.${field.name}`];
    return size === undefined ? undefined : 1 + size * childComplexity;
  };
}

function tooComplex(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "QUERY_TOO_COMPLEX", ...extensions, http: { status: 400 } } });
}

function badInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", field, http: { status: 400 } } });
}

/** The key fields of every entity type, read from its @key directives ("id", "ruleId outcomeId"). */
function entityKeyFields(schema: GraphQLSchema): Map<string, string[][]> {
  const keys = new Map<string, string[][]>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    const directives = [type.astNode, ...(type.extensionASTNodes ?? [])].flatMap((node) => node?.directives ?? []);
    for (const directive of directives) {
      if (directive.name.value !== "key") continue;
      const fields = directive.arguments?.find((argument) => argument.name.value === "fields")?.value;
      if (fields?.kind !== Kind.STRING) continue;
      keys.set(type.name, [...(keys.get(type.name) ?? []), fields.value.split(/\s+/).filter(Boolean)]);
    }
  }
  return keys;
}

/** A document's fragments by name. */
function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  return Object.fromEntries(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
}

/** The root fields an operation selects, fragments and inline fragments expanded. */
function rootFields(
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): FieldNode[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(selection.selectionSet, fragments, seen);
    const fragment = fragments[selection.name.value];
    if (!fragment || seen.has(fragment.name.value)) return [];
    seen.add(fragment.name.value);
    return rootFields(fragment.selectionSet, fragments, seen);
  });
}

/** Why a representation cannot be resolved, or null when its shape is that of an entity's key. */
function representationProblem(representation: unknown, keys: Map<string, string[][]>): string | null {
  if (representation === null || typeof representation !== "object" || Array.isArray(representation)) {
    return "is not an object";
  }
  const { __typename: typeName, ...fields } = representation as Record<string, unknown>;
  if (typeof typeName !== "string") return "has no __typename";
  const keySets = keys.get(typeName);
  if (!keySets) return `names ${typeName.slice(0, 64)}, which is no entity of this subgraph`;
  const matches = keySets.some((keyFields) =>
    keyFields.every((name) => typeof fields[name] === "string" && (fields[name] as string).length <= 1024),
  );
  return matches ? null : `is no ${typeName} key (${keySets.map((set) => set.join(" ")).join(" | ")}, as strings)`;
}

interface OperationFacts {
  /** A limit the operation's text breaks. */
  error?: GraphQLError;
  /** Its root `_entities` fields, whose representations are checked per request. */
  entities: FieldNode[];
  /** Its cost, by the shape of the variables that weigh on it (see costShapeOf). */
  complexityByVariables?: Map<string, number>;
  /** A mutation's calls of the caller's key (see uncountedCalls). */
  calls?: number;
}

/**
 * The only variables the cost depends on: numbers (`first`), booleans (`@include`/`@skip`) and
 * list lengths (`representations`). Input objects (a logConversion's input) never change it, so
 * they stay out of the key.
 */
function costShapeOf(variables: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value === "number" || typeof value === "boolean") parts.push(`${name}=${value}`);
    else if (Array.isArray(value)) parts.push(`${name}[${value.length}]`);
  }
  return parts.join("&");
}

export function operationLimitsPlugin(
  schema: GraphQLSchema,
  limits: OperationLimits,
): ApolloServerPlugin<CountedCallsContext> {
  const factsByDocument = new WeakMap<DocumentNode, Map<string, OperationFacts>>();
  const keys = entityKeyFields(schema);
  const entitiesField = schema.getQueryType()?.getFields()._entities;
  const aliasRule = maxAliasesRule({
    n: limits.maxAliases,
    // Every alias counts, __typename's too: the limit is a plain count.
    allowList: [],
    exposeLimits: false,
    errorMessage: `Query has too many aliases: the limit is ${limits.maxAliases}`,
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(error)],
  });
  const estimators = [
    entitiesEstimator,
    pageSizeEstimator,
    listSizeEstimator(limits.listSizes ?? {}),
    simpleEstimator({ defaultComplexity: 1 }),
  ];

  /** What an operation's text alone decides: its alias and field-group limits, its `_entities` calls. */
  const inspect = (document: DocumentNode, operation: OperationDefinitionNode): OperationFacts => {
    const aliasErrors = validate(schema, document, [aliasRule]);
    if (aliasErrors.length > 0) {
      return { error: tooComplex(aliasErrors[0].message, { maxAliases: limits.maxAliases }), entities: [] };
    }
    const roots = rootFields(operation.selectionSet, fragmentsOf(document));
    const rootType = operation.operation === "mutation" ? "Mutation" : "Query";
    for (const group of limits.fieldGroups ?? []) {
      if (group.rootType !== rootType) continue;
      const count = roots.filter((field) => group.fields.includes(field.name.value)).length;
      if (count > group.max) {
        const message = `An operation may carry at most ${group.max} ${group.description}; this one has ${count}`;
        return { error: tooComplex(message), entities: [] };
      }
    }
    const entities = rootType === "Query" ? roots.filter((field) => field.name.value === "_entities") : [];
    const uncounted = limits.uncountedCalls ?? [];
    const calls =
      rootType === "Mutation"
        ? Math.max(1, roots.filter((field) => !uncounted.includes(field.name.value)).length)
        : undefined;
    return { entities, complexityByVariables: new Map(), calls };
  };

  /** What the operation's text decides, worked out once; throws the limit it breaks. */
  const factsOf = (document: DocumentNode, operation: OperationDefinitionNode): OperationFacts => {
    // Apollo hands the same DocumentNode for the same query text (its document cache): what the text
    // alone decides is worked out once, and the cost once per shape of the variables that weigh on it.
    let byOperation = factsByDocument.get(document);
    if (!byOperation) {
      byOperation = new Map();
      factsByDocument.set(document, byOperation);
    }
    const operationKey = operation.name?.value ?? "";
    let facts = byOperation.get(operationKey);
    if (!facts) {
      facts = inspect(document, operation);
      byOperation.set(operationKey, facts);
    }
    if (facts.error) throw facts.error;
    return facts;
  };

  /** The checks that depend on the variables too. */
  const checkVariables = (
    facts: OperationFacts,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
  ) => {
    if (entitiesField) {
      for (const node of facts.entities) {
        const { representations } = getArgumentValues(entitiesField, node, variables) as { representations: unknown[] };
        if (representations.length > limits.maxRepresentations) {
          throw badInput(
            `_entities takes at most ${limits.maxRepresentations} representations; this call has ${representations.length}`,
            "representations",
          );
        }
        representations.forEach((representation, index) => {
          const problem = representationProblem(representation, keys);
          if (problem) throw badInput(`representations[${index}] ${problem}`, `representations.${index}`);
        });
      }
    }

    const costKey = costShapeOf(variables);
    let complexity = facts.complexityByVariables?.get(costKey);
    if (complexity === undefined) {
      complexity = getComplexity({
        schema,
        query: document,
        operationName: operation.name?.value,
        variables,
        estimators,
      });
      if (facts.complexityByVariables && facts.complexityByVariables.size < 100) {
        facts.complexityByVariables.set(costKey, complexity);
      }
    }
    if (complexity > limits.maxComplexity) {
      throw tooComplex(`Query is too complex: ${complexity} exceeds the limit of ${limits.maxComplexity}`, {
        complexity,
        maxComplexity: limits.maxComplexity,
      });
    }
  };

  return sharedListenerPlugin<CountedCallsContext>({
    didResolveOperation({ request, document, operation, contextValue }) {
      if (!operation) return SETTLED;
      // The operation's own limits throw: Apollo answers them 400.
      const facts = factsOf(document, operation);
      if (facts.calls !== undefined) contextValue.countCalls(facts.calls);
      try {
        checkVariables(facts, document, operation, request.variables ?? {});
      } catch (error) {
        if (error instanceof GraphQLError && error.extensions.http) throw error;
        // Invalid variables: execution reports them precisely as BAD_USER_INPUT.
      }
      return SETTLED;
    },
  });
}
