// The queue-and-history tree: plain HTML with the ARIA tree pattern (the toolkit has no tree).
// Only the rows in view are in the DOM, so ten thousand runs scroll as smoothly as ten; each
// row carries aria-level/setsize/posinset so a screen reader still hears where it is. Focus
// stays on the tree element and moves by aria-activedescendant.
import * as l10n from '@vscode/l10n';
import { badge, el, icon } from './ui/components';
import { moveFocus, type TreeRow } from './viewModel';

export const ROW_HEIGHT = 22;
/** Rows drawn beyond each edge of the view, so a fast scroll does not show blank space. */
const OVERSCAN = 12;

export interface TreeEvents {
  /** A row was chosen (click, Enter, Space). */
  select(row: TreeRow): void;
  toggle(row: TreeRow): void;
  scrolled(top: number): void;
}

export class TreeView {
  readonly element: HTMLElement;
  private readonly spacer: HTMLElement;
  private rows: TreeRow[] = [];
  private focusKey: string | undefined;
  selectedKey: string | undefined;
  private frame = 0;

  constructor(private readonly on: TreeEvents) {
    this.element = el('div', 'tree');
    this.element.id = 'tree';
    this.element.setAttribute('role', 'tree');
    this.element.setAttribute('aria-label', l10n.t('Queue and history'));
    this.element.tabIndex = 0;
    this.spacer = el('div', 'tree-spacer');
    this.element.append(this.spacer);
    this.element.addEventListener('scroll', () => {
      cancelAnimationFrame(this.frame);
      this.frame = requestAnimationFrame(() => this.draw());
      this.on.scrolled(this.element.scrollTop);
    });
    this.element.addEventListener('keydown', (e) => this.key(e));
    this.element.addEventListener('click', (e) => {
      const rowEl = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
      const row = rowEl && this.rows.find((r) => r.key === rowEl.dataset.key);
      if (!row) return;
      this.focusKey = row.key;
      if (row.kind === 'group') this.on.toggle(row);
      else if (row.kind !== 'empty') this.choose(row);
      this.draw();
    });
  }

  setRows(rows: TreeRow[]): void {
    this.rows = rows;
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    this.draw();
  }

  get visibleRows(): TreeRow[] {
    return this.rows;
  }

  scrollTo(top: number): void {
    this.element.scrollTop = top;
    this.draw();
  }

  /** Selects (and reveals) the row with this key, if it is visible. */
  reveal(key: string): boolean {
    const i = this.rows.findIndex((r) => r.key === key);
    if (i < 0) return false;
    this.focusKey = key;
    this.selectedKey = key;
    this.ensureVisible(i);
    this.draw();
    return true;
  }

  private choose(row: TreeRow): void {
    this.selectedKey = row.key;
    this.on.select(row);
  }

  private focusIndex(): number {
    const i = this.rows.findIndex((r) => r.key === this.focusKey);
    return i >= 0 ? i : 0;
  }

  private ensureVisible(i: number): void {
    const top = i * ROW_HEIGHT;
    const view = this.element.clientHeight;
    if (top < this.element.scrollTop) this.element.scrollTop = top;
    else if (top + ROW_HEIGHT > this.element.scrollTop + view) this.element.scrollTop = top + ROW_HEIGHT - view;
  }

  private key(e: KeyboardEvent): void {
    if (!this.rows.length) return;
    const i = this.focusIndex();
    const row = this.rows[i];
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (row.kind === 'group') this.on.toggle(row);
      else if (row.kind !== 'empty') this.choose(row);
      this.draw();
      return;
    }
    const page = Math.max(1, Math.floor(this.element.clientHeight / ROW_HEIGHT) - 1);
    const move = moveFocus(this.rows, i, e.key, page);
    if (move.focus === i && !move.toggle && !['ArrowDown', 'ArrowUp', 'Home', 'End', 'PageDown', 'PageUp', 'ArrowLeft', 'ArrowRight'].includes(e.key)) return;
    e.preventDefault();
    this.focusKey = this.rows[move.focus].key;
    if (move.toggle) this.on.toggle(this.rows[move.focus]);
    this.ensureVisible(move.focus);
    this.draw();
  }

  /** Draws the rows in view (and a margin); the rest exist only as the spacer's height. */
  private draw(): void {
    const top = this.element.scrollTop;
    const height = this.element.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const focusIndex = this.focusIndex();
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) frag.append(this.rowElement(this.rows[i], i, i === focusIndex));
    this.spacer.replaceChildren(frag);
    const focused = this.rows[focusIndex];
    if (focused && focusIndex >= first && focusIndex < last) this.element.setAttribute('aria-activedescendant', rowId(focused.key));
    else this.element.removeAttribute('aria-activedescendant');
  }

  private rowElement(r: TreeRow, i: number, focused: boolean): HTMLElement {
    const row = el('div', `tree-row kind-${r.kind}${focused ? ' focused' : ''}${r.key === this.selectedKey ? ' selected' : ''}`);
    row.id = rowId(r.key);
    row.dataset.key = r.key;
    row.setAttribute('role', 'treeitem');
    row.setAttribute('aria-level', String(r.level));
    row.setAttribute('aria-setsize', String(r.setSize));
    row.setAttribute('aria-posinset', String(r.posInSet));
    row.setAttribute('aria-selected', String(r.key === this.selectedKey));
    if (r.expanded !== undefined) row.setAttribute('aria-expanded', String(r.expanded));
    row.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
    row.style.paddingLeft = `${(r.level - 1) * 16 + 4}px`;
    const twistie = el('span', 'twistie');
    if (r.expanded !== undefined) twistie.append(icon(r.expanded ? 'chevron-down' : 'chevron-right'));
    row.append(twistie, icon(r.icon, r.tone ? `tone-${r.tone}` : ''), el('span', 'label', r.label));
    if (r.count !== undefined) row.append(badge(r.count, `${r.count} item${r.count === 1 ? '' : 's'}`));
    if (r.description) row.append(el('span', 'description', r.description));
    row.title = r.description ? `${r.label} · ${r.description}` : r.label;
    return row;
  }
}

export function rowId(key: string): string {
  return `row-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
