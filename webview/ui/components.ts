// Our small UI components. This is the only file that touches @vscode/webview-ui-toolkit
// (deprecated upstream in 2025): moving to another set of elements rewrites this file alone.
// Each function returns a plain element the rest of the panel appends and listens to.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

export function registerComponents(): void {
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeTextField(),
  );
}

/** A plain element with classes and text (not a toolkit component; here so every builder is in one place). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A codicon, hidden from screen readers (the text next to it says the same). */
export function icon(name: string, className = ''): HTMLElement {
  const [id, modifier] = name.split('~'); // "sync~spin", as VS Code writes a spinning icon
  const i = el('span', ['codicon', `codicon-${id}`, modifier ? `codicon-modifier-${modifier}` : '', className].filter(Boolean).join(' '));
  i.setAttribute('aria-hidden', 'true');
  return i;
}

export interface ButtonOptions {
  icon?: string;
  appearance?: 'primary' | 'secondary' | 'icon';
  title?: string;
  disabled?: boolean;
  onClick: () => void;
}

export function button(label: string, o: ButtonOptions): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', o.appearance ?? 'secondary');
  if (o.appearance === 'icon') {
    b.setAttribute('aria-label', label);
    b.title = o.title ?? label;
    b.append(icon(o.icon ?? 'circle'));
  } else {
    if (o.icon) {
      const i = icon(o.icon);
      i.setAttribute('slot', 'start');
      b.append(i);
    }
    b.append(label);
    if (o.title) b.title = o.title;
  }
  if (o.disabled) b.setAttribute('disabled', '');
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) o.onClick();
  });
  return b;
}

/**
 * A count or status pill in the editor's badge colours. Not the toolkit's <vscode-badge>: its
 * template binds a style attribute, which a webview's strict CSP (no 'unsafe-inline') refuses
 * with a console error for every badge drawn.
 */
export function badge(text: string | number, label?: string): HTMLElement {
  const b = el('span', 'badge', String(text));
  if (label) b.setAttribute('aria-label', label);
  return b;
}

export interface Field extends HTMLElement {
  value: string;
}

export function textField(o: { label?: string; placeholder?: string; value?: string; ariaLabel?: string; onInput: (value: string) => void; icon?: string }): Field {
  const f = document.createElement('vscode-text-field') as unknown as Field;
  if (o.placeholder) f.setAttribute('placeholder', o.placeholder);
  if (o.ariaLabel) f.setAttribute('aria-label', o.ariaLabel);
  if (o.label) f.append(o.label);
  if (o.icon) {
    const i = icon(o.icon);
    i.setAttribute('slot', 'start');
    f.append(i);
  }
  f.value = o.value ?? '';
  f.setAttribute('value', o.value ?? '');
  f.addEventListener('input', () => o.onInput(f.value));
  return f;
}

export function dropdown(o: { options: { value: string; label: string }[]; value: string; ariaLabel: string; onChange: (value: string) => void }): Field {
  const d = document.createElement('vscode-dropdown') as unknown as Field;
  d.setAttribute('aria-label', o.ariaLabel);
  d.setAttribute('position', 'below');
  for (const opt of o.options) {
    const option = document.createElement('vscode-option');
    option.setAttribute('value', opt.value);
    option.textContent = opt.label;
    if (opt.value === o.value) option.setAttribute('selected', '');
    d.append(option);
  }
  d.addEventListener('change', () => o.onChange(d.value));
  return d;
}

export function divider(): HTMLElement {
  return document.createElement('vscode-divider');
}

/** A read-only grid of text cells with a header row (keyboard navigable, announced as a grid). */
/** Tabs over views; `onChange` gets the id of the tab shown. */
export function tabs(items: { id: string; label: string; count?: number; content: HTMLElement }[], active: string, onChange: (id: string) => void): HTMLElement {
  const panels = document.createElement('vscode-panels');
  panels.setAttribute('aria-label', 'Details');
  for (const t of items) {
    const tab = document.createElement('vscode-panel-tab');
    tab.id = `tab-${t.id}`;
    tab.append(t.label);
    if (t.count !== undefined) tab.append(badge(t.count));
    panels.append(tab);
  }
  for (const t of items) {
    const view = document.createElement('vscode-panel-view');
    view.id = `view-${t.id}`;
    view.append(t.content);
    panels.append(view);
  }
  if (items.some((t) => t.id === active)) panels.setAttribute('activeid', `tab-${active}`);
  panels.addEventListener('change', (e) => {
    const id = (e.target as HTMLElement & { activeid?: string }).activeid;
    if (e.target === panels && id) onChange(id.replace(/^tab-/, ''));
  });
  return panels;
}
