// The orchestrator panel's page: asks the extension for the state (`ready`), then redraws on
// each change it pushes. Layout: a header, the filter bar, the tree on the left, the details
// (or the Add form) on the right. What the user chose (folder, filter, open groups, selection,
// scroll, tab) is kept with setState, so a reload puts the panel back as it was.
import { renderAddForm } from './addForm';
import { renderDeliveryDetails, renderDetails, type DetailsEvents } from './details';
import { EMPTY_FILTER, GANTT_LIMIT, GANTT_PAGE, PROTOCOL_VERSION, WebviewEnd, type AddForm, type DeliveryDetails, type Details, type Filter, type Message, type PanelOp, type Snapshot } from './protocol';
import { TreeView } from './tree';
import { button, dropdown, el, registerComponents, textField } from './ui/components';
import { isFiltering, PanelModel, visibleRows } from './viewModel';
import { GanttView } from './gantt';
import * as l10n from '@vscode/l10n';
import { WINDOWS, type GanttWindow } from './ganttModel';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };

interface PageState {
  protocol: number;
  folder?: string;
  filter?: Filter;
  expanded: Record<string, boolean>;
  selected?: { key: string; actionId?: string; runId?: string; deliveryId?: string };
  scrollTop: number;
  tab: string;
  adding?: AddForm;
  /** The list (tree and details) or the Gantt view of runs over time. */
  view?: 'list' | 'gantt';
  ganttWindow?: GanttWindow;
}

const vscode = acquireVsCodeApi();
const saved = vscode.getState() as PageState | undefined;
const state: PageState = saved?.protocol === PROTOCOL_VERSION ? saved : { protocol: PROTOCOL_VERSION, expanded: {}, scrollTop: 0, tab: 'overview' };
const save = () => vscode.setState(state);

const end = new WebviewEnd({
  post: (m: Message) => vscode.postMessage(m),
  listen: (handler) => {
    const l = (e: MessageEvent) => handler(e.data);
    window.addEventListener('message', l);
    return () => window.removeEventListener('message', l);
  },
});

const model = new PanelModel();
let snapshot: Snapshot | undefined;
let details: Details | undefined;
let delivery: DeliveryDetails | undefined;
let frame = 0;
/** The newest event time in pushed changes not drawn yet: how late the panel is, measured. */
let pendingEventTs = 0;

registerComponents();
const app = document.getElementById('app')!;
const header = el('header', 'header');
const filterBar = el('div', 'filter-bar');
filterBar.setAttribute('role', 'search');
const notice = el('div', 'notice');
notice.setAttribute('role', 'status');
const status = el('div', 'status-line');
status.setAttribute('aria-live', 'polite');
const side = el('aside', 'side');
side.id = 'details';
const tree = new TreeView({
  select: (row) => {
    if (!row.actionId && !row.deliveryId) return;
    state.selected = { key: row.key, actionId: row.actionId, runId: row.runId, deliveryId: row.deliveryId };
    state.adding = undefined;
    save();
    void loadDetails();
  },
  toggle: (row) => {
    state.expanded[row.key] = !row.expanded;
    save();
    draw();
  },
  scrolled: (top) => {
    state.scrollTop = top;
    save();
  },
});
const main = el('main', 'main');
main.append(tree.element, side);
const gantt = new GanttView({
  open: (run) => {
    // A bar opens its run in the list's details.
    state.view = 'list';
    state.selected = { key: `r:${run.runId}`, actionId: run.actionId, runId: run.runId };
    state.tab = 'overview';
    save();
    showView();
    draw();
    tree.reveal(`r:${run.runId}`);
    void loadDetails();
  },
  windowChanged: (w) => {
    state.ganttWindow = w;
    save();
    void loadGantt();
  },
});
app.append(header, filterBar, notice, main, gantt.element, status);
gantt.element.classList.toggle('hidden', state.view !== 'gantt');
app.setAttribute('aria-busy', 'true');
side.append(el('p', 'muted', l10n.t('Loading…')));

function filter(): Filter {
  return state.filter ?? EMPTY_FILTER;
}

function setFilter(f: Filter): void {
  state.filter = f;
  save();
  void end.request('saveFilter', { filter: f });
  draw();
}

function act(op: PanelOp, actionId?: string, target: { flowId?: string; runId?: string } = {}): void {
  end.request('act', { folder: model.folder, op, actionId, ...target }).then(
    (r) => r.message && showStatus(r.message),
    (err: Error) => showStatus(err.message, true),
  );
}

function showStatus(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('error', error);
}

/**
 * Replaces a region's content, keeping keyboard focus on the same control (found again by its
 * tag and text): a change pushed while a keyboard user is on "Cancel" must not drop them.
 */
function redraw(region: HTMLElement, ...content: (Node | string)[]): void {
  const focused = document.activeElement instanceof HTMLElement && region.contains(document.activeElement) ? document.activeElement : undefined;
  const key = focused && `${focused.tagName}|${focused.textContent}`;
  region.replaceChildren(...content);
  if (!key) return;
  const again = [...region.querySelectorAll<HTMLElement>(focused!.tagName)].find((e) => `${e.tagName}|${e.textContent}` === key);
  again?.focus();
}

let headerKey = '';
function drawHeader(): void {
  const s = snapshot;
  // Redrawn only when what it shows changes: not on every pushed change.
  const key = JSON.stringify([s?.folder, s?.folders.length, s?.notice, s?.following, model.paused, state.view]);
  if (key === headerKey) return;
  headerKey = key;
  const parts: HTMLElement[] = [el('h1', '', 'SDLC Orchestrator')];
  if (s && s.folders.length > 1) {
    parts.push(
      dropdown({
        options: s.folders.map((f) => ({ value: f.path, label: f.name })),
        value: s.folder,
        ariaLabel: l10n.t('Folder'),
        onChange: (v) => {
          state.folder = v;
          state.selected = undefined;
          save();
          void start();
        },
      }),
    );
  }
  const mode = !s || s.notice ? '' : s.following ? l10n.t('following {0}', s.following) : model.paused ? l10n.t('paused: nothing starts until you resume') : l10n.t('running');
  parts.push(el('span', `mode${model.paused ? ' paused' : ''}`, mode));
  const spacer = el('span', 'grow');
  parts.push(spacer);
  if (s && !s.notice) {
    parts.push(
      state.view === 'gantt'
        ? button(l10n.t('List'), { icon: 'list-tree', title: l10n.t('Back to the queue, the history and the details'), onClick: () => setView('list') })
        : button(l10n.t('Runs over time'), { icon: 'graph-line', title: l10n.t('A Gantt chart of the runs: one lane per action'), onClick: () => setView('gantt') }),
      button(l10n.t('Add action'), { icon: 'add', appearance: 'primary', onClick: () => openForm() }),
      model.paused
        ? button(l10n.t('Resume all'), { icon: 'debug-continue', onClick: () => act('resumeAll') })
        : button(l10n.t('Pause all'), { icon: 'debug-pause', title: l10n.t('Hold every action of this folder; running ones finish'), onClick: () => act('pauseAll') }),
    );
  }
  redraw(header, ...parts);
}

function drawFilterBar(): void {
  const f = filter();
  const runners = new Set(['task', 'terminal', 'process']);
  for (const a of model.actions.values()) runners.add(a.run.runner);
  const search = textField({ placeholder: 'Filter by name or command', ariaLabel: 'Filter by name or command', value: f.text, icon: 'search', onInput: (v) => setFilter({ ...filter(), text: v }) });
  search.id = 'filter-text';
  const clear = button(l10n.t('Clear filter'), { appearance: 'icon', icon: 'clear-all', onClick: () => (setFilter(EMPTY_FILTER), drawFilterBar()) });
  clear.classList.toggle('hidden', !isFiltering(f));
  filterBar.replaceChildren(
    search,
    dropdown({
      ariaLabel: l10n.t('Status'),
      value: f.status,
      options: [{ value: '', label: 'Any status' }, ...['running', 'scheduled', 'waiting', 'paused', 'succeeded', 'failed', 'cancelled'].map((s) => ({ value: s, label: s[0].toUpperCase() + s.slice(1) }))],
      onChange: (v) => setFilter({ ...filter(), status: v as Filter['status'] }),
    }),
    dropdown({ ariaLabel: l10n.t('Runner'), value: f.runner, options: [{ value: '', label: l10n.t('Any runner') }, ...[...runners].map((r) => ({ value: r, label: r }))], onChange: (v) => setFilter({ ...filter(), runner: v }) }),
    dropdown({
      ariaLabel: l10n.t('Trigger'),
      value: f.trigger,
      options: [{ value: '', label: l10n.t('Any trigger') }, ...['at', 'delay', 'cron', 'every', 'webhook', 'after', 'manual', 'change', 'git', 'afterTask', 'open'].map((t) => ({ value: t, label: t === 'afterTask' ? l10n.t('after task') : t }))],
      onChange: (v) => setFilter({ ...filter(), trigger: v as Filter['trigger'] }),
    }),
    clear,
  );
}

/** Redraws the tree (and what depends on the model) once per frame, however many changes came. */
function draw(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const rows = visibleRows(model, filter(), state.expanded, Date.now());
    tree.selectedKey = state.selected?.key;
    tree.setRows(rows);
    filterBar.querySelector('vscode-button')?.classList.toggle('hidden', !isFiltering(filter()));
    drawHeader();
    if (pendingEventTs) {
      document.body.dataset.lagMs = String(Date.now() - pendingEventTs);
      pendingEventTs = 0;
    }
  });
}

function drawSide(): void {
  if (state.adding) {
    redraw(
      side,
      renderAddForm(state.adding, [...model.actions.values()], {
        validate: (form) => end.request('validate', { folder: model.folder, form }),
        submit: async (form) => {
          const r = await end.request('add', { folder: model.folder, form }).catch((err: Error) => (showStatus(err.message, true), undefined));
          if (!r?.actionId) return r?.feedback;
          state.adding = undefined;
          state.selected = { key: `a:${r.actionId}`, actionId: r.actionId };
          save();
          showStatus(l10n.t('Added "{0}".', form.name || form.command));
          void loadDetails();
          return undefined;
        },
        changed: (form) => {
          state.adding = form;
          save();
        },
        close: () => {
          state.adding = undefined;
          save();
          drawSide();
          tree.element.focus();
        },
      }),
    );
    return;
  }
  const on: DetailsEvents = {
    act: (op, target) => act(op, details?.actionId, target),
    showOutput: (run) => void end.request('showOutput', { folder: model.folder, runId: run.runId, name: run.name }),
    showDelivery: (id) => void end.request('showDelivery', { folder: model.folder, deliveryId: id }),
    replay: (id) => void end.request('replay', { folder: model.folder, deliveryId: id }).then(() => showStatus('Replayed: it runs on the next tick.')),
    selectRun: (runId, actionId) => {
      state.selected = { key: `r:${runId}`, actionId, runId };
      save();
      tree.reveal(`r:${runId}`);
      void loadDetails();
    },
    tabChanged: (id) => {
      state.tab = id;
      save();
    },
  };
  if (delivery) {
    redraw(side, renderDeliveryDetails(delivery, Date.now(), on));
    return;
  }
  if (!details) {
    const hint = el('div', 'empty-details');
    if (!snapshot?.notice && !model.actions.size && model.oldest() === undefined) {
      // Nothing here yet: the first steps, not only a sentence.
      hint.append(
        el('h2', '', l10n.t('Nothing is automated in this folder yet')),
        el('p', '', l10n.t('Add an action: a command and when it runs. Or keep your actions with the code, reviewed and shared, in .sdlc/actions.yaml.')),
      );
      const bar = el('div', 'toolbar');
      bar.append(
        button(l10n.t('Add action'), { icon: 'add', appearance: 'primary', onClick: () => openForm() }),
        button(l10n.t('Open Actions File'), { icon: 'go-to-file', onClick: () => act('createActionsFile') }),
        button(l10n.t('Get Started'), { icon: 'book', onClick: () => act('openWalkthrough') }),
      );
      hint.append(bar);
    } else hint.append(el('p', '', snapshot?.notice ?? l10n.t('Select an action or a run to see what it runs, when, and everything that happened to it.')));
    redraw(side, hint);
    return;
  }
  redraw(side, renderDetails(details, state.tab, Date.now(), on));
}

/** Shows the list or the Gantt view (the header's button). */
function setView(view: 'list' | 'gantt'): void {
  state.view = view;
  save();
  showView();
  drawHeader();
  if (view === 'gantt') void loadGantt().then(() => (gantt.element.querySelector('.gantt-chart') as HTMLElement | null)?.focus());
}

function showView(): void {
  const noticed = Boolean(snapshot?.notice);
  const inGantt = state.view === 'gantt' && !noticed;
  main.classList.toggle('hidden', noticed || inGantt);
  filterBar.classList.toggle('hidden', noticed || inGantt);
  gantt.element.classList.toggle('hidden', !inGantt);
}

/** The runs of the chosen window, read once; after that the change feed keeps it live. */
async function loadGantt(): Promise<void> {
  if (!model.folder) return;
  const w = state.ganttWindow ?? 'hour';
  const now = Date.now();
  const folder = model.folder;
  const fail = (err: Error) => (showStatus(err.message, true), undefined);
  let page = await end.request('gantt', { folder, from: now - WINDOWS[w], to: now, limit: GANTT_PAGE }).catch(fail);
  if (!page) return;
  gantt.load(page.runs, w, now, false);
  // The rest page by page, drawn as it comes; up to GANTT_LIMIT runs.
  let count = page.runs.length;
  while (!page.complete && count < GANTT_LIMIT && model.folder === folder && state.view === 'gantt') {
    const last: { endedAt: number | null; runId: string } = page.runs[page.runs.length - 1];
    page = await end.request('gantt', { folder, from: now - WINDOWS[w], to: now, before: { endedAt: last.endedAt!, runId: last.runId }, limit: GANTT_PAGE }).catch(fail);
    if (!page) return;
    gantt.upsert(page.runs, Date.now(), false);
    count += page.runs.length;
  }
  if (count >= GANTT_LIMIT) gantt.truncate();
}

function openForm(): void {
  if (state.view === 'gantt') setView('list');
  state.adding = state.adding ?? { name: '', command: '', runner: 'task', when: 'in', value: '' };
  save();
  drawSide();
}

/** Reads the selection's details; a read already in flight is followed by one more, not many. */
let loading = false;
let again = false;
async function loadDetails(): Promise<void> {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    do {
      again = false;
      const sel = state.selected;
      const failed = (err: Error) => (showStatus(err.message, true), undefined);
      details = sel?.actionId && model.folder ? await end.request('details', { folder: model.folder, actionId: sel.actionId, runId: sel.runId }).catch(failed) : undefined;
      delivery = sel?.deliveryId && model.folder ? await end.request('delivery', { folder: model.folder, deliveryId: sel.deliveryId }).catch(failed) : undefined;
    } while (again);
  } finally {
    loading = false;
  }
  if (!state.adding) drawSide(); // an open form is not redrawn under the user's typing
}

/** Older history arrives page by page after the first screen is drawn. */
async function loadOlderHistory(folder: string): Promise<void> {
  while (!model.historyComplete && model.folder === folder) {
    const page = await end.request('history', { folder, before: model.oldest(), limit: 1000 }).catch(() => undefined);
    if (!page || model.folder !== folder) return;
    model.addHistory(page.runs);
    model.historyComplete = page.complete;
    draw();
  }
}

function load(s: Snapshot): void {
  // The page's strings in VS Code's language (the first snapshot brings them).
  const bundle = s.l10n;
  if (bundle) l10n.config({ contents: bundle });
  snapshot = s;
  model.load(s);
  state.folder = s.folder;
  state.filter ??= s.filter;
  save();
  notice.textContent = s.notice ?? '';
  notice.classList.toggle('hidden', !s.notice);
  // Untrusted, not started, or failed: an empty tree would only mislead.
  showView();
  if (state.view === 'gantt') void loadGantt();
  drawFilterBar();
  draw();
  void loadOlderHistory(s.folder);
}

end.on('snapshot', (s) => {
  load(s);
  void loadDetails();
});

end.on('delta', (d) => {
  if (d.folder !== model.folder) return;
  const touched = model.apply(d);
  if (state.view === 'gantt') gantt.upsert(d.runs, Date.now());
  for (const e of d.events) pendingEventTs = Math.max(pendingEventTs, e.ts);
  draw();
  const sel = state.selected;
  // A flow shown in the details is live: any of its steps changing redraws it.
  const flowId = details?.flow?.status === 'running' || d.events.some((e) => e.type === 'flow.rerun') ? details?.flow?.flowId : undefined;
  const flowTouched = flowId !== undefined && d.events.some((e) => e.data.flow === flowId);
  if (flowTouched || (sel?.actionId && touched.has(sel.actionId)) || (sel?.deliveryId && d.deliveries.some((x) => x.id === sel.deliveryId))) void loadDetails();
});

end.on('select', (s) => {
  if (s.folder !== model.folder) return;
  const key = s.runId ? `r:${s.runId}` : `a:${s.actionId}`;
  state.selected = { key, actionId: s.actionId, runId: s.runId };
  if (s.tab) state.tab = s.tab;
  save();
  draw();
  tree.reveal(key);
  void loadDetails();
});

end.on('exports', (e) => {
  if (e.folder !== model.folder) return;
  model.exports = e.exports;
  draw();
  if (state.selected?.actionId) void loadDetails();
});

async function start(): Promise<void> {
  try {
    const s = await end.request('ready', { folder: state.folder, protocol: PROTOCOL_VERSION });
    load(s);
    app.removeAttribute('aria-busy');
    requestAnimationFrame(() => {
      tree.scrollTo(state.scrollTop);
      if (state.selected) tree.reveal(state.selected.key);
    });
    if (state.adding) drawSide();
    else await loadDetails();
  } catch (err) {
    showStatus(l10n.t('Could not load the orchestrator: {0}', (err as Error).message), true);
  }
}

// Relative times ("in 3 min") age: redraw them now and then. This reads nothing from the extension.
setInterval(draw, 15_000);
void start();
