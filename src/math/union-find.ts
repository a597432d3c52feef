/**
 * Disjoint sets over 0..n-1 with path compression and union by rank (Tarjan 1975): near-constant
 * amortized time per operation. Used for connected components and for H0 of Rips persistence.
 */
export class UnionFind {
  private readonly parent: Int32Array;
  private readonly rank: Uint8Array;

  constructor(readonly size: number) {
    this.parent = new Int32Array(size);
    this.rank = new Uint8Array(size);
    for (let i = 0; i < size; i++) this.parent[i] = i;
  }

  /** The representative of x's set (compressing the path to it). */
  find(x: number): number {
    const parent = this.parent;
    let root = x;
    while (parent[root] !== root) root = parent[root];
    while (parent[x] !== root) {
      const next = parent[x];
      parent[x] = root;
      x = next;
    }
    return root;
  }

  /** Merges the sets of a and b; returns false when they were already one set. */
  union(a: number, b: number): boolean {
    const u = this.find(a);
    const v = this.find(b);
    if (u === v) return false;
    if (this.rank[u] > this.rank[v]) this.parent[v] = u;
    else {
      this.parent[u] = v;
      if (this.rank[u] === this.rank[v]) this.rank[v]++;
    }
    return true;
  }
}
