// The Flow tab: a flow run drawn as a graph, live. Steps are buttons (a click or Enter opens the
// step's run; the arrow keys move between steps along the edges' columns), edges are an SVG
// layer underneath, and every step says in words what the picture shows.
import * as l10n from '@vscode/l10n';
import { displayText } from '../src/core/displayText';
import { relativeTime, shortDuration } from '../src/extension/model/relativeTime';
import type { FlowView } from './protocol';
import { layoutFlow, neighbour, NODE } from './flowLayout';
import { badge, button, el, icon } from './ui/components';

export interface FlowEvents {
  cancelFlow(flowId: string): void;
  rerunFlow(flowId: string): void;
  selectRun(runId: string, actionId: string): void;
}

const STEP_ICON: Record<string, string> = {
  succeeded: 'pass',
  failed: 'error',
  running: 'sync~spin',
  queued: 'clock',
  waiting: 'circle-large-outline',
  skipped: 'debug-step-over',
  cancelled: 'circle-slash',
};

const SVG = 'http://www.w3.org/2000/svg';

type Step = FlowView['steps'][number];

/** What a step's box says under its name: how long, which run, why not. */
export function stepMeta(s: Step, now: number): string {
  const parts: string[] = [s.status];
  if (s.startedAt !== null && (s.status === 'running' || s.endedAt !== null)) parts.push(shortDuration((s.endedAt ?? now) - s.startedAt));
  if (s.attempt > 1) parts.push(l10n.t('run {0}', s.attempt));
  if ((s.runAttempt ?? 1) > 1) parts.push(l10n.t('try {0}', s.runAttempt ?? 1));
  return parts.join(' · ');
}

/** The whole step in words, for screen readers and the tooltip. */
export function stepLabel(s: Step, names: Map<string, string>, now: number): string {
  const ups = s.upstreams.map((u) => names.get(u) ?? u).join(l10n.t(' and '));
  const after = !s.upstreams.length ? l10n.t(', first step') : s.cond !== 'success' ? l10n.t(', after {0} (if {1})', ups, s.cond) : l10n.t(', after {0}', ups);
  return `${displayText(s.name)}: ${stepMeta(s, now)}${after}${s.reason ? `. ${s.reason}` : ''}${s.runId ? l10n.t('. Enter opens its run') : ''}`;
}

export function renderFlow(flow: FlowView, selectedRunId: string | undefined, now: number, on: FlowEvents): HTMLElement {
  const box = el('div', 'flow');
  const names = new Map(flow.steps.map((s) => [s.actionId, s.name] as const));
  const head = el('div', 'flow-head');
  const title = el('span', 'flow-title', l10n.t('Flow {0} of "{1}"', flow.flowId.slice(0, 8), displayText(flow.name)));
  title.title = flow.flowId;
  head.append(
    badge(flow.status, l10n.t('Flow {0}', flow.status)),
    title,
    el(
      'span',
      'muted',
      [
        l10n.t('started {0}', relativeTime(flow.startedAt, now)),
        flow.endedAt !== null ? l10n.t('took {0}', shortDuration(flow.endedAt - flow.startedAt)) : l10n.t('running for {0}', shortDuration(now - flow.startedAt)),
        flow.attempt > 1 ? l10n.t('attempt {0}', flow.attempt) : '',
        flow.commit ? l10n.t('commit {0}', flow.commit.slice(0, 10)) : '',
      ]
        .filter(Boolean)
        .join(' · '),
    ),
  );
  const bar = el('div', 'toolbar');
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', l10n.t('Flow'));
  if (flow.status === 'running') bar.append(button(l10n.t('Cancel Flow'), { icon: 'debug-stop', onClick: () => on.cancelFlow(flow.flowId) }));
  if (flow.status === 'failed' || flow.status === 'cancelled') bar.append(button(l10n.t('Re-run Failed Steps'), { icon: 'debug-rerun', appearance: 'primary', onClick: () => on.rerunFlow(flow.flowId) }));
  box.append(head, bar);
  if (flow.reason) box.append(el('p', 'muted', flow.reason));

  const layout = layoutFlow(flow);
  const scroller = el('div', 'flow-scroll');
  const graph = el('div', 'flow-graph');
  graph.setAttribute('role', 'group');
  graph.setAttribute('aria-label', l10n.t('Steps of the flow, {0}, in the order they run', flow.steps.length));
  graph.style.width = `${layout.width}px`;
  graph.style.height = `${layout.height}px`;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'flow-edges');
  svg.setAttribute('width', String(layout.width));
  svg.setAttribute('height', String(layout.height));
  svg.setAttribute('aria-hidden', 'true');
  const status = new Map(flow.steps.map((s) => [s.actionId, s.status] as const));
  for (const e of layout.edges) {
    const p = document.createElementNS(SVG, 'path');
    p.setAttribute('d', e.d);
    p.setAttribute('class', `flow-edge from-${status.get(e.from)}`);
    svg.append(p);
  }
  graph.append(svg);
  const buttons = new Map<string, HTMLButtonElement>();
  const selected = flow.steps.find((s) => s.runId !== null && s.runId === selectedRunId)?.actionId ?? flow.steps[0]?.actionId;
  flow.steps.forEach((s, i) => {
    const n = layout.nodes[i];
    const b = el('button', `flow-node step-${s.status}${s.actionId === selected ? ' selected' : ''}`);
    b.type = 'button';
    b.style.left = `${n.x}px`;
    b.style.top = `${n.y}px`;
    b.style.width = `${NODE.w}px`;
    b.style.height = `${NODE.h}px`;
    b.tabIndex = s.actionId === selected ? 0 : -1;
    const label = stepLabel(s, names, now);
    b.setAttribute('aria-label', label);
    b.title = label;
    if (s.actionId === selected) b.setAttribute('aria-current', 'true');
    const name = el('span', 'flow-node-name');
    name.append(icon(STEP_ICON[s.status] ?? 'circle-outline', 'step-icon'), el('span', '', displayText(s.name)));
    b.append(name, el('span', 'flow-node-meta', stepMeta(s, now)));
    if (s.cond !== 'success') b.append(el('span', 'flow-node-cond', `if ${s.cond}`));
    b.addEventListener('click', () => s.runId && on.selectRun(s.runId, s.actionId));
    b.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight' && e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
      const to = neighbour(layout, s.actionId, e.key);
      const target = to && buttons.get(to);
      if (!target) return;
      e.preventDefault();
      b.tabIndex = -1;
      target.tabIndex = 0;
      target.focus();
    });
    buttons.set(s.actionId, b);
    graph.append(b);
  });
  scroller.append(graph);
  box.append(scroller);
  return box;
}
