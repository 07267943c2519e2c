// The "Add action" form. Every keystroke is checked by the extension with the same code as
// the Schedule Action command (model/panelData.ts checkForm → wizardModel), so the panel and
// the palette accept and refuse exactly the same things.
import * as l10n from '@vscode/l10n';
import type { Action } from '../src/core/model';
import { whenChoices, whenPrompts, type WhenKind } from '../src/extension/model/whenChoices';
import type { AddForm, FormFeedback } from './protocol';
import { button, dropdown, el, textField, type Field } from './ui/components';

/** The palette's choices, without their codicon prefix. */
const when = () => whenChoices().map((c) => ({ value: c.value, label: c.label.replace(/^\$\([^)]*\)\s*/, '') }));

const runners = () => [
  { value: 'task', label: l10n.t('VS Code task') },
  { value: 'terminal', label: l10n.t('Terminal') },
  { value: 'process', label: l10n.t('Background process') },
];

export interface FormEvents {
  validate(form: AddForm): Promise<FormFeedback>;
  submit(form: AddForm): Promise<FormFeedback | undefined>;
  changed(form: AddForm): void;
  close(): void;
}

export function renderAddForm(initial: AddForm, actions: Action[], on: FormEvents): HTMLElement {
  const form: AddForm = { ...initial };
  const box = el('section', 'add-form');
  box.setAttribute('aria-label', l10n.t('Add action'));
  const title = el('h2', '', l10n.t('Add action'));
  const messages: Record<'name' | 'command' | 'value', HTMLElement> = { name: el('div', 'field-error'), command: el('div', 'field-error'), value: el('div', 'field-error') };
  for (const m of Object.values(messages)) m.setAttribute('aria-live', 'polite');
  const info = el('div', 'field-info');
  info.setAttribute('aria-live', 'polite');
  let seq = 0;
  let touched = false;

  const show = (f: FormFeedback) => {
    for (const k of ['name', 'command', 'value'] as const) messages[k].textContent = touched ? (f[k] ?? '') : '';
    info.textContent = f.info ?? '';
  };
  const check = () => {
    on.changed(form);
    const mine = ++seq;
    void on.validate(form).then((f) => mine === seq && show(f));
  };

  const command = textField({ label: l10n.t('Command'), placeholder: l10n.t('npm test'), value: form.command, onInput: (v) => ((form.command = v), (touched = true), check()) });
  command.id = 'add-command';
  const name = textField({ label: l10n.t('Name (optional)'), placeholder: l10n.t('defaults to the command'), value: form.name, onInput: (v) => ((form.name = v), check()) });
  name.id = 'add-name';
  const runner = dropdown({ options: runners(), value: form.runner, ariaLabel: l10n.t('Runs as'), onChange: (v) => ((form.runner = v as AddForm['runner']), check()) });
  const valueSlot = el('div', 'value-slot');

  const drawValue = () => {
    let input: Field | undefined;
    if (form.when === 'after') {
      const options = actions.map((a) => ({ value: a.id, label: a.name }));
      if (!options.some((o) => o.value === form.value)) form.value = options[0]?.value ?? '';
      input = options.length ? dropdown({ options, value: form.value, ariaLabel: l10n.t('After which action'), onChange: (v) => ((form.value = v), check()) }) : undefined;
    } else if (form.when !== 'manual' && form.when !== 'open') {
      input = textField({ label: whenPrompts()[form.when].prompt, placeholder: whenPrompts()[form.when].placeholder, value: form.value, onInput: (v) => ((form.value = v), (touched = true), check()) });
      input.id = 'add-value';
    }
    valueSlot.replaceChildren(...(input ? [input] : []), messages.value);
  };
  const whenField = dropdown({
    options: when().map((w) => ({ value: w.value, label: w.label })),
    value: form.when,
    ariaLabel: l10n.t('When'),
    onChange: (v) => {
      form.when = v as WhenKind;
      form.value = '';
      drawValue();
      check();
    },
  });
  drawValue();

  const submit = async () => {
    touched = true;
    const f = await on.submit(form);
    if (f) show(f);
  };
  const actionsBar = el('div', 'toolbar');
  actionsBar.append(button(l10n.t('Add'), { icon: 'add', appearance: 'primary', onClick: () => void submit() }), button(l10n.t('Cancel'), { onClick: on.close }));

  const row = (label: string, ...children: HTMLElement[]) => {
    const r = el('div', 'form-row');
    if (label) r.append(el('label', 'form-label', label));
    r.append(...children);
    return r;
  };
  box.append(
    title,
    row('', command, messages.command),
    row('Runs as', runner),
    row('When', whenField),
    row('', valueSlot, info),
    row('', name, messages.name),
    actionsBar,
  );
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') on.close();
    if (e.key === 'Enter' && (e.target as HTMLElement).tagName === 'VSCODE-TEXT-FIELD') void submit();
  });
  check();
  queueMicrotask(() => command.focus());
  return box;
}
