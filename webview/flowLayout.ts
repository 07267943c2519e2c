// Where each step of a flow run goes when drawn: columns by depth (a step is one column right
// of its deepest upstream), rows in the flow's order within a column, and an edge from each
// upstream's right side to its downstream's left. Pure: no DOM, tested in plain mocha.
import type { FlowView } from './protocol';

export const NODE = { w: 176, h: 50, gapX: 56, gapY: 14, pad: 12 } as const;

export interface LaidNode {
  actionId: string;
  column: number;
  row: number;
  x: number;
  y: number;
}

export interface LaidEdge {
  from: string;
  to: string;
  /** An SVG path: a cubic curve between the two sides. */
  d: string;
}

export interface FlowLayout {
  nodes: LaidNode[];
  edges: LaidEdge[];
  width: number;
  height: number;
  /** Node ids by column, top to bottom: what the arrow keys move through. */
  columns: string[][];
}

export function layoutFlow(flow: Pick<FlowView, 'steps'>): FlowLayout {
  const column = new Map<string, number>();
  // Steps come in topological order: every upstream's column is known before its downstreams'.
  for (const s of flow.steps) column.set(s.actionId, s.upstreams.reduce((c, u) => Math.max(c, (column.get(u) ?? -1) + 1), 0));
  const columns: string[][] = [];
  for (const s of flow.steps) (columns[column.get(s.actionId)!] ??= []).push(s.actionId);
  const at = new Map<string, LaidNode>();
  columns.forEach((ids, c) =>
    ids.forEach((id, r) => at.set(id, { actionId: id, column: c, row: r, x: NODE.pad + c * (NODE.w + NODE.gapX), y: NODE.pad + r * (NODE.h + NODE.gapY) })),
  );
  const edges: LaidEdge[] = [];
  for (const s of flow.steps) {
    const to = at.get(s.actionId)!;
    for (const u of s.upstreams) {
      const from = at.get(u);
      if (!from) continue;
      const x1 = from.x + NODE.w;
      const y1 = from.y + NODE.h / 2;
      const x2 = to.x;
      const y2 = to.y + NODE.h / 2;
      const bend = Math.max(24, (x2 - x1) / 2);
      edges.push({ from: u, to: s.actionId, d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}` });
    }
  }
  const rows = Math.max(1, ...columns.map((c) => c.length));
  return {
    nodes: flow.steps.map((s) => at.get(s.actionId)!),
    edges,
    width: NODE.pad * 2 + Math.max(1, columns.length) * NODE.w + Math.max(0, columns.length - 1) * NODE.gapX,
    height: NODE.pad * 2 + rows * NODE.h + (rows - 1) * NODE.gapY,
    columns,
  };
}

/** The node an arrow key moves to from `id`: along the columns (left, right) or within one (up, down). */
export function neighbour(layout: FlowLayout, id: string, key: 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown'): string | undefined {
  const node = layout.nodes.find((n) => n.actionId === id);
  if (!node) return undefined;
  if (key === 'ArrowUp' || key === 'ArrowDown') return layout.columns[node.column][node.row + (key === 'ArrowUp' ? -1 : 1)];
  const next = layout.columns[node.column + (key === 'ArrowLeft' ? -1 : 1)];
  return next?.[Math.min(node.row, next.length - 1)];
}
