// Relay-style connections: one PageInfo, one factory for each node type's Edge and Connection
// classes, and one way to turn a page of nodes and their cursors into edges and pageInfo.
import { Field, ObjectType } from "type-graphql";

export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
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

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/** `${name}Edge` and `${name}Connection` object types for nodes of `nodeType`. */
export function connectionType<T>(name: string, nodeType: Function) {
  @ObjectType(`${name}Edge`)
  class EdgeType implements Edge<T> {
    @Field()
    cursor: string;

    @Field(() => nodeType)
    node: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType implements Connection<T> {
    @Field(() => [EdgeType])
    edges: EdgeType[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;
  }
  return ConnectionType;
}

export function toConnection<T>(page: Page<T>, after: string | null | undefined): Connection<T> {
  const edges = page.nodes.map((node, index) => ({ node, cursor: page.cursors[index] }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: Boolean(after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
