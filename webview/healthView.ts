// An action's health in the panel's overview: its success rate, durations with a small trend
// line, the flaky mark and its last failure (a link to that run).
import * as l10n from '@vscode/l10n';
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
  if (!h.runs) return [[l10n.t('Health'), l10n.t('no runs yet')]];
  const pct = h.successRate === null ? 0 : Math.round(h.successRate * 100);
  const rate =
    h.successRate === null ? l10n.t('none succeeded or failed yet')
    : h.cancelled ? l10n.t('{0}% of the last {1} succeeded ({2} cancelled)', pct, h.succeeded + h.failed, h.cancelled)
    : l10n.t('{0}% of the last {1} succeeded', pct, h.succeeded + h.failed);
  const durations = el('span', 'health-durations');
  if (h.p50Ms !== null) {
    const ratio = h.trend && Number.isFinite(h.trend.ratio) ? h.trend.ratio.toFixed(1) : '∞';
    const trend = !h.trend ? l10n.t('too few runs for a trend') : h.trend.word === 'slower' ? l10n.t('getting slower (×{0})', ratio) : h.trend.word === 'faster' ? l10n.t('getting faster (×{0})', ratio) : l10n.t('steady');
    durations.append(el('span', '', `p50 ${shortDuration(h.p50Ms)} · p95 ${shortDuration(h.p95Ms!)} · ${trend} `), sparklineSvg(h.durations));
    durations.setAttribute('aria-label', l10n.t('Durations of the last {0} runs: p50 {1}, p95 {2}, {3}', h.durations.length, shortDuration(h.p50Ms), shortDuration(h.p95Ms!), trend));
  }
  let flaky: HTMLElement | undefined;
  if (h.flaky) {
    flaky = el('span', 'health-flaky');
    flaky.append(badge(l10n.t('flaky'), l10n.t('Flaky')), el('span', '', ` ${l10n.t('{0} switches between success and failure, its definition unchanged', h.flips)}`));
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
    [l10n.t('Succeeded'), rate],
    [l10n.t('Durations'), h.p50Ms !== null ? durations : undefined],
    [l10n.t('Flaky'), flaky],
    [l10n.t('Last failure'), failure],
  ];
}
