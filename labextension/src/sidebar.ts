// The "Versions" sidebar of the active notebook: graph + list (message, age, metrics,
// branches, tags), commit / check out / compare actions, details of a version or a diff.
import { Dialog, InputDialog, showDialog } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import { Signal } from '@lumino/signaling';

import { IDiff, ILog, IVersion, IVersionInfo, requestAPI } from './api';
import { age, drawGraph, num } from './graph';
import { KernelBridge, KernelError } from './kernel';

export class VersionsPanel extends Widget {
  /** Emitted after this panel changed kernel state (commit, checkout). */
  readonly changed = new Signal<this, void>(this);
  private notebook: NotebookPanel | null = null;
  private log: ILog | null = null;
  private selected = new Set<string>();
  private listNode: HTMLElement;
  private noteNode: HTMLElement;
  private detailsNode: HTMLElement;
  private compareButton: HTMLButtonElement;
  private refreshing: Promise<void> | null = null;

  constructor(private bridge: KernelBridge) {
    super();
    this.id = 'jupyter-mvc-versions';
    this.addClass('jp-mvc-panel');
    this.title.caption = 'Versions (jupyter_mvc)';
    const header = document.createElement('div');
    header.className = 'jp-mvc-header';
    header.innerHTML = '<h2>Versions</h2>';
    const commit = button('Commit…', 'jp-mvc-commit', () => void this.commit());
    this.compareButton = button('Compare', 'jp-mvc-compare', () => void this.compare());
    const refresh = button('Refresh', 'jp-mvc-refresh', () => void this.refresh());
    header.append(commit, this.compareButton, refresh);
    this.noteNode = div('jp-mvc-note');
    this.listNode = div('jp-mvc-list');
    this.detailsNode = div('jp-mvc-details');
    this.node.append(header, this.noteNode, this.listNode, this.detailsNode);
    this.updateCompare();
  }

  setNotebook(panel: NotebookPanel | null): void {
    if (panel !== this.notebook) {
      this.notebook = panel;
      this.selected.clear();
      this.detailsNode.textContent = '';
      void this.refresh();
    }
  }

  /** Reload the list from the server (coalesces overlapping calls). */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.load().finally(() => (this.refreshing = null));
    }
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const panel = this.notebook;
    if (!panel) {
      this.render(null, 'Open a notebook to see its versions.');
      return;
    }
    await panel.context.ready;
    try {
      const log = await requestAPI<ILog>('log', { path: panel.context.path, all: '1' });
      this.render(log, log.versions.length ? '' : 'No versions yet: commit one (Commit… or %mv_commit).');
    } catch (err) {
      this.render(null, (err as Error).message);
    }
  }

  private render(log: ILog | null, note: string): void {
    this.log = log;
    this.noteNode.textContent = note;
    this.listNode.textContent = '';
    const versions = log?.versions ?? [];
    for (const id of [...this.selected]) {
      if (!versions.some(v => v.id === id)) {
        this.selected.delete(id);
      }
    }
    if (versions.length) {
      const rows = div('jp-mvc-rows');
      versions.forEach(v => rows.appendChild(this.row(v)));
      this.listNode.append(drawGraph(versions, log!.lanes), rows);
    }
    this.updateCompare();
  }

  private row(v: IVersionInfo): HTMLElement {
    const row = div('jp-mvc-version');
    row.dataset.id = v.id;
    if (v.is_head) {
      row.classList.add('jp-mvc-current');
    }
    const pick = document.createElement('input');
    pick.type = 'checkbox';
    pick.className = 'jp-mvc-pick';
    pick.title = 'Select two versions to compare';
    pick.checked = this.selected.has(v.id);
    pick.onchange = () => {
      pick.checked ? this.selected.add(v.id) : this.selected.delete(v.id);
      this.updateCompare();
    };
    const main = div('jp-mvc-main');
    const subject = document.createElement('a');
    subject.className = 'jp-mvc-subject';
    subject.textContent = v.subject || '(no message)';
    subject.title = `${v.message}\n${v.short_id} by ${v.author}\nvariables: ${v.variables.join(', ')}`;
    subject.onclick = () => void this.details(v.id);
    const refs = [...v.branches.map(b => badge(b, 'jp-mvc-branch')), ...v.tags.map(t => badge(t, 'jp-mvc-tag'))];
    const meta = div('jp-mvc-meta');
    meta.textContent = [v.short_id, age(v.time),
      ...Object.entries(v.metrics).map(([k, val]) => `${k}=${num(val)}`)].filter(Boolean).join(' · ');
    main.append(subject, ...refs, meta);
    const checkout = button('Check out', 'jp-mvc-checkout', () => void this.checkout(v));
    checkout.title = `Load ${v.short_id}'s variables into this notebook's kernel`;
    row.append(pick, main, checkout);
    return row;
  }

  private updateCompare(): void {
    this.compareButton.disabled = this.selected.size !== 2;
    this.compareButton.title = 'Tick two versions, then compare them';
  }

  private say(text: string, error = false): void {
    this.noteNode.textContent = text;
    this.noteNode.classList.toggle('jp-mvc-error', error);
  }

  private async commit(): Promise<void> {
    const panel = this.notebook;
    if (!panel) {
      return;
    }
    const answer = await InputDialog.getText({
      title: 'Commit the notebook state',
      label: 'What is this version?',
      placeholder: 'e.g. baseline lr=0.1'
    });
    if (!answer.button.accept || !answer.value?.trim()) {
      return;
    }
    try {
      // The message travels as comm data, never as code.
      const result = await this.bridge.request(panel.sessionContext, { action: 'commit', message: answer.value });
      await this.refresh();
      this.say(result.message);
      this.changed.emit();
    } catch (err) {
      this.say((err as Error).message, true);
    }
  }

  private async checkout(v: IVersionInfo, force = false): Promise<void> {
    const panel = this.notebook;
    if (!panel) {
      return;
    }
    try {
      const result = await this.bridge.request(panel.sessionContext, { action: 'checkout', rev: v.id, force });
      await this.refresh();
      this.say(result.message);
      this.changed.emit();
    } catch (err) {
      const message = (err as Error).message;
      if (!force && err instanceof KernelError && message.includes('would overwrite')) {
        const ok = await showDialog({
          title: `Check out ${v.short_id}?`,
          body: message,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Discard changes and check out' })]
        });
        if (ok.button.accept) {
          return this.checkout(v, true);
        }
        return;
      }
      this.say(message, true);
    }
  }

  private async details(rev: string): Promise<void> {
    const panel = this.notebook;
    if (!panel) {
      return;
    }
    try {
      const v = await requestAPI<IVersion>('version', { path: panel.context.path, rev });
      const rows = v.variables.map(x => [x.name, x.type, x.summary_line]);
      const scalars = Object.entries(v.metrics.scalars ?? {}).map(([k, val]) => [k, num(val)]);
      const params = Object.entries(v.params).map(([k, val]) => [k, JSON.stringify(val)]);
      this.detailsNode.textContent = '';
      this.detailsNode.append(
        heading(`${v.info.short_id}: ${v.info.subject}`),
        table(['variable', 'type', 'summary'], rows),
        ...(scalars.length ? [table(['metric', 'value'], scalars)] : []),
        ...(params.length ? [table(['param', 'value'], params)] : [])
      );
    } catch (err) {
      this.say((err as Error).message, true);
    }
  }

  private async compare(): Promise<void> {
    const panel = this.notebook;
    const versions = this.log?.versions ?? [];
    if (!panel || this.selected.size !== 2) {
      return;
    }
    // Older first: the list is newest first.
    const [newer, older] = versions.filter(v => this.selected.has(v.id));
    try {
      const d = await requestAPI<IDiff>('diff', { path: panel.context.path, old: older.id, new: newer.id });
      const rows = d.variables.map(c => [c.name, c.status, summary(c.old), summary(c.new)]);
      const changes = [...Object.entries(d.metrics), ...Object.entries(d.params)].map(
        ([k, [a, b]]) => [k, JSON.stringify(a), JSON.stringify(b)]);
      this.detailsNode.textContent = '';
      this.detailsNode.classList.add('jp-mvc-diff');
      this.detailsNode.append(
        heading(`${d.old.short_id} → ${d.new.short_id}`),
        table(['variable', 'change', 'old', 'new'], rows),
        ...(changes.length ? [table(['metric/param', 'old', 'new'], changes)] : [])
      );
    } catch (err) {
      this.say((err as Error).message, true);
    }
  }
}

function div(className: string): HTMLDivElement {
  const node = document.createElement('div');
  node.className = className;
  return node;
}

function button(label: string, className: string, onclick: () => void): HTMLButtonElement {
  const node = document.createElement('button');
  node.className = `jp-mvc-button ${className}`;
  node.textContent = label;
  node.onclick = onclick;
  return node;
}

function badge(text: string, className: string): HTMLElement {
  const node = document.createElement('span');
  node.className = `jp-mvc-badge ${className}`;
  node.textContent = text;
  return node;
}

function heading(text: string): HTMLElement {
  const node = document.createElement('h3');
  node.textContent = text;
  return node;
}

function table(head: string[], rows: string[][]): HTMLTableElement {
  const node = document.createElement('table');
  const tr = node.createTHead().insertRow();
  head.forEach(h => (tr.insertCell().textContent = h));
  const body = node.createTBody();
  rows.forEach(r => {
    const row = body.insertRow();
    r.forEach(cell => (row.insertCell().textContent = cell));
  });
  return node;
}

function summary(s: Record<string, unknown> | null): string {
  if (!s) {
    return '—';
  }
  return Object.entries(s).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
}
