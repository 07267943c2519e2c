// An action's health in the panel's overview: its success rate, durations with a small trend
// line, the flaky mark and its last failure (a link to that run).
import type { Health } from '../src/core/health';
import { shortDuration } from '../src/extension/model/relativeTime';
import { badge, el } from './ui/components';

const SVG = 'http://www.w3.org/2000/svg';

/** A line through the durations, oldest at the left; the picture is described in words beside it. */
export function sparklineSvg(values: number[], width = 140, height = 24): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('aria-hidden', 'true');
  if (values.length < 2) return svg;
  const max = Math.max(...values);
  const min = Math.min(...values);
  const x = (i: number) => 1 + (i * (width - 2)) / (values.length - 1);
  const y = (v: number) => height - 2 - (max === min ? (height - 4) / 2 : ((v - min) / (max - min)) * (height - 4));
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '));
  svg.append(line);
  return svg;
}

export function healthFacts(h: Health, onRun: (runId: string) => void): [string, string | HTMLElement | undefined][] {
  if (!h.runs) return [['Health', 'no runs yet']];
  const rate = h.successRate === null ? 'none succeeded or failed yet' : `${Math.round(h.successRate * 100)}% of the last ${h.succeeded + h.failed} succeeded${h.cancelled ? ` (${h.cancelled} cancelled)` : ''}`;
  const durations = el('span', 'health-durations');
  if (h.p50Ms !== null) {
    const trend = h.trend ? (h.trend.word === 'steady' ? 'steady' : `getting ${h.trend.word} (×${Number.isFinite(h.trend.ratio) ? h.trend.ratio.toFixed(1) : '∞'})`) : 'too few runs for a trend';
    durations.append(el('span', '', `p50 ${shortDuration(h.p50Ms)} · p95 ${shortDuration(h.p95Ms!)} · ${trend} `), sparklineSvg(h.durations));
    durations.setAttribute('aria-label', `Durations of the last ${h.durations.length} runs: p50 ${shortDuration(h.p50Ms)}, p95 ${shortDuration(h.p95Ms!)}, ${trend}`);
  }
  let flaky: HTMLElement | undefined;
  if (h.flaky) {
    flaky = el('span', 'health-flaky');
    flaky.append(badge('flaky', 'Flaky'), el('span', '', ` ${h.flips} switches between success and failure, its definition unchanged`));
  }
  let failure: HTMLElement | undefined;
  if (h.lastFailure) {
    const f = h.lastFailure;
    failure = el('a', '', `${new Date(f.endedAt).toLocaleString()}${f.reason ? ` — ${f.reason}` : ''}`);
    (failure as HTMLAnchorElement).href = '#';
    failure.addEventListener('click', (e) => {
      e.preventDefault();
      onRun(f.runId);
    });
  }
  return [
    ['Succeeded', rate],
    ['Durations', h.p50Ms !== null ? durations : undefined],
    ['Flaky', flaky],
    ['Last failure', failure],
  ];
}
