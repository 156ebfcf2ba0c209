// Relay-style connections: one way to turn a page of nodes and their cursors into edges and pageInfo.
export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
}

export function toConnection<T>(page: Page<T>, after: string | null | undefined) {
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
