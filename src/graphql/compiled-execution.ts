// Execution of validated operations by graphql-jit once a document is seen again, by graphql-js before.
// graphql-js pays, for every field of the answer, a resolver call through type-graphql's wrapper, a resolve
// info object and its type checks: a 366-day series (44,000 fields) took 60 ms to complete, its compiled
// query 18 ms. A document is compiled on its second execution, so a stream of one-off documents costs no
// compilation; compiled queries live as long as Apollo keeps the parsed document (its bounded document store).
// Apollo Server takes an executor only through its gateway interface: this "gateway" serves the local schema.
import type { GatewayExecutor, GatewayInterface } from "@apollo/server-gateway-interface";
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLError,
  type GraphQLSchema,
  getVariableValues,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";

interface DocumentExecutions {
  executions: number;
  /** By operation name ("" for the document's only operation). */
  compiled: Map<string, CompiledQuery | null>;
}

export interface CompiledExecutionOptions {
  /** Executions of a document by graphql-js before it is compiled (0: on first sight). */
  executionsBeforeCompiling: number;
  /** Told of each compilation: whether graphql-jit took the operation. */
  onCompiled?: (operationName: string | null, compiled: boolean) => void;
}

/** Executes by graphql-js the first `executionsBeforeCompiling` times a document is seen, then compiled. */
export function compiledExecutor(
  schema: GraphQLSchema,
  { executionsBeforeCompiling, onCompiled }: CompiledExecutionOptions,
): GatewayExecutor {
  const byDocument = new WeakMap<DocumentNode, DocumentExecutions>();
  const compiledFor = (seen: DocumentExecutions, document: DocumentNode, operationName: string | null) => {
    const name = operationName ?? "";
    let compiled = seen.compiled.get(name);
    if (compiled === undefined) {
      compiled = compiledOperation(schema, document, operationName);
      seen.compiled.set(name, compiled);
      onCompiled?.(operationName, compiled !== null);
    }
    return compiled;
  };
  return async ({ document, operation, request, context, operationName }) => {
    let seen = byDocument.get(document);
    if (!seen) {
      seen = { executions: 0, compiled: new Map() };
      byDocument.set(document, seen);
    }
    const compiled = seen.executions < executionsBeforeCompiling ? null : compiledFor(seen, document, operationName);
    seen.executions++;
    // Until the document is due to be compiled, or when graphql-jit does not take it: graphql-js.
    if (compiled === null) {
      return execute({ schema, document, contextValue: context, variableValues: request.variables, operationName });
    }
    // Variables are checked by graphql-js first: its errors carry the variable's node, by which Apollo answers
    // them as BAD_USER_INPUT with HTTP 400 (graphql-jit's do not).
    const variables = request.variables ?? {};
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) return { errors: coerced.errors };
    const result = compiled.query(undefined, context, variables);
    return isPromise(result) ? result.then(withExtensions) : withExtensions(result);
  };
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T>)?.then === "function";

/**
 * graphql-jit leaves `extensions` undefined (and frozen so) on the errors of failed resolvers, where graphql-js
 * sets {}: Apollo's error formatting then fails on them and answers each as a bare "Internal server error",
 * without its path and without calling the service's formatter (which logs it). Each such error is answered
 * as one that inherits all of it (message, locations, path, original error) but graphql-js's empty extensions.
 */
function withExtensions(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((error) => error.extensions === undefined)) return result;
  const errors = result.errors.map((error) =>
    error.extensions === undefined
      ? (Object.create(error, { extensions: { value: {}, enumerable: true } }) as GraphQLError)
      : error,
  );
  return { ...result, errors };
}

/** The operation compiled; null when graphql-jit does not take it (it keeps running on graphql-js). */
function compiledOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null,
): CompiledQuery | null {
  try {
    const result = compileQuery(schema, document, operationName ?? undefined);
    return isCompiledQuery(result) ? result : null;
  } catch {
    return null;
  }
}

/** The gateway interface over a local schema, executing as compiledExecutor does. */
export function localSchemaGateway(schema: GraphQLSchema, options: CompiledExecutionOptions): GatewayInterface {
  const executor = compiledExecutor(schema, options);
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: "" });
      return () => {};
    },
    async load() {
      return { executor };
    },
    async stop() {},
  };
}
