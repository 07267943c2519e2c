// The graph `after` draws between actions: who follows whom, under which condition. Built once
// per change of the definitions (never per tick) and asked two things: is there a cycle (with
// its path, for the error), and which steps does a flow run starting at an action have, in an
// order where every upstream comes before its downstreams.
import type { FlowCondition } from '../model';

export interface GraphNode {
  id: string;
  name: string;
  /** Upstream ids (empty for an action nothing precedes). */
  after: string[];
  cond: FlowCondition;
  /** Runs in a git worktree (its flow needs the commit it started from). */
  isolated?: boolean;
}

export interface FlowPlanStep {
  id: string;
  name: string;
  cond: FlowCondition;
  /** Its upstreams that are steps of this flow too. */
  upstreams: string[];
}

/**
 * A cycle through `after`, as the names along it back to the first (a → b → a: a waits for b,
 * which waits for a), or undefined.
 * `upstreamsOf` may name ids it does not know: those end the path.
 */
export function findCycle(ids: Iterable<string>, upstreamsOf: (id: string) => readonly string[] | undefined, nameOf: (id: string) => string = (id) => id): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done, no cycle through it
  for (const start of ids) {
    if (state.has(start)) continue;
    // Iterative depth-first search: a chain of thousands must not overflow the stack.
    const path: string[] = [];
    const stack: { id: string; next: number; ups: readonly string[] }[] = [{ id: start, next: 0, ups: upstreamsOf(start) ?? [] }];
    state.set(start, 1);
    path.push(start);
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.next >= top.ups.length) {
        state.set(top.id, 2);
        stack.pop();
        path.pop();
        continue;
      }
      const up = top.ups[top.next++];
      const s = state.get(up);
      if (s === 1) {
        // Written as it was followed: each one waits for the next.
        const cycle = path.slice(path.indexOf(up));
        return [...cycle, cycle[0]].map(nameOf);
      }
      if (s === 2) continue;
      const ups = upstreamsOf(up);
      if (ups === undefined) continue; // not an action we know: nothing further along
      state.set(up, 1);
      path.push(up);
      stack.push({ id: up, next: 0, ups });
    }
  }
  return undefined;
}

/** The graph of the stored actions' `after` edges, with downstreams indexed for flow planning. */
export class FlowGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly downstreams = new Map<string, string[]>();

  constructor(nodes: Iterable<GraphNode>) {
    for (const n of nodes) this.nodes.set(n.id, n);
    for (const n of this.nodes.values()) {
      for (const up of n.after) {
        const list = this.downstreams.get(up);
        if (list) list.push(n.id);
        else this.downstreams.set(up, [n.id]);
      }
    }
    // By name, so that a flow's steps come in the same order every time (the UI draws them so).
    const name = (id: string) => this.nodes.get(id)?.name ?? id;
    for (const list of this.downstreams.values()) list.sort((x, y) => (name(x) < name(y) ? -1 : name(x) > name(y) ? 1 : 0));
  }

  isolated(id: string): boolean {
    return this.nodes.get(id)?.isolated === true;
  }

  hasDownstreams(id: string): boolean {
    return (this.downstreams.get(id)?.length ?? 0) > 0;
  }

  /**
   * The steps of a flow run that starts at `root`: the root and everything that follows it,
   * in topological order (Kahn's algorithm over the reachable part; ties keep the order found).
   */
  plan(root: string, rootName: string): FlowPlanStep[] {
    const reach = new Set<string>([root]);
    const queue = [root];
    for (let i = 0; i < queue.length; i++) {
      for (const d of this.downstreams.get(queue[i]) ?? []) {
        if (!reach.has(d)) {
          reach.add(d);
          queue.push(d);
        }
      }
    }
    const upstreams = new Map<string, string[]>();
    const indegree = new Map<string, number>();
    for (const id of reach) {
      const ups = id === root ? [] : (this.nodes.get(id)?.after ?? []).filter((u) => reach.has(u));
      upstreams.set(id, ups);
      indegree.set(id, ups.length);
    }
    const out: FlowPlanStep[] = [];
    const ready = [root];
    for (let i = 0; i < ready.length; i++) {
      const id = ready[i];
      const node = this.nodes.get(id);
      out.push({ id, name: id === root ? rootName : (node?.name ?? id), cond: id === root ? 'success' : (node?.cond ?? 'success'), upstreams: upstreams.get(id)! });
      for (const d of this.downstreams.get(id) ?? []) {
        if (!reach.has(d) || d === root) continue;
        const n = indegree.get(d)! - 1;
        indegree.set(d, n);
        if (n === 0) ready.push(d);
      }
    }
    // A cycle would leave steps out; the definitions refuse cycles, so this only guards.
    return out;
  }
}
