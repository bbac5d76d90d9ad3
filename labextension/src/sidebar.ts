// The "Versions" sidebar of the active notebook: graph + list (message, age, metrics,
// branches, tags), commit / check out / compare actions, "Merge into <current>" on the
// tip of each other branch not merged yet (with a panel to resolve conflicts), details of
// a version or a diff, and, when the project has a remote, Push ↑N / Pull ↓M / Fetch with
// a busy indicator.
// It renders the VersionsModel and forwards clicks to it; it fetches nothing itself.
import { Dialog, InputDialog, showDialog } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { age, drawGraph, num } from './graph';
import { KernelError } from './kernel';
import { Details, IMergeStopped, KERNEL_UNCHANGED, VersionsModel } from './model';
import {
  DIRTY_CHECKOUT,
  ILogEntry,
  IMergeConflict,
  IRemoteState,
  MergeSide,
  MergeStrategy,
  SyncOp
} from './wire';

const DOING: Record<SyncOp, string> = {
  push: 'Pushing to',
  pull: 'Pulling from',
  fetch: 'Fetching from'
};

export class VersionsPanel extends Widget {
  private selected = new Set<string>();
  private listNode: HTMLElement;
  private noteNode: HTMLElement;
  private detailsNode: HTMLElement;
  private compareButton: HTMLButtonElement;
  private notebook: NotebookPanel | null = null;
  private sync: SyncRow;
  private conflicts: MergePanel;
  /** The current version and its ancestors: branches whose tip is here are merged. */
  private merged = new Set<string>();

  constructor(private model: VersionsModel) {
    super();
    this.id = 'jupyter-mvc-versions';
    this.addClass('jp-mvc-panel');
    this.title.caption = 'Versions (jupyter_mvc)';
    const header = document.createElement('div');
    header.className = 'jp-mvc-header';
    header.innerHTML = '<h2>Versions</h2>';
    const commit = button('Commit…', 'jp-mvc-commit', () => void this.commit());
    this.compareButton = button('Compare', 'jp-mvc-compare', () =>
      void this.compare()
    );
    const refresh = button('Refresh', 'jp-mvc-refresh', () =>
      void this.model.refresh()
    );
    header.append(commit, this.compareButton, refresh);
    this.noteNode = div('jp-mvc-note');
    this.listNode = div('jp-mvc-list');
    this.detailsNode = div('jp-mvc-details');
    this.sync = new SyncRow(model);
    this.conflicts = new MergePanel(model);
    this.node.append(
      header,
      this.sync.node,
      this.noteNode,
      this.conflicts.node,
      this.listNode,
      this.detailsNode
    );
    model.changed.connect(this.render, this);
    this.render();
  }

  dispose(): void {
    this.model.changed.disconnect(this.render, this);
    super.dispose();
  }

  /** Draw the model's state. */
  private render(): void {
    const model = this.model;
    if (model.notebook !== this.notebook) {
      this.notebook = model.notebook;
      this.selected.clear();
    }
    const log = model.log;
    const versions = log?.versions ?? [];
    for (const id of [...this.selected]) {
      if (!versions.some(v => v.id === id)) {
        this.selected.delete(id);
      }
    }
    this.sync.render();
    this.renderNote();
    this.conflicts.render();
    this.merged = ancestors(versions, log?.head ?? null);
    this.listNode.textContent = '';
    if (log && versions.length) {
      const rows = div('jp-mvc-rows');
      versions.forEach(v => rows.appendChild(this.row(v)));
      this.listNode.append(drawGraph(versions, log.lanes), rows);
    }
    this.renderDetails(model.shown);
    this.updateCompare();
  }

  private renderNote(): void {
    const model = this.model;
    let text = '';
    let error = false;
    const working = model.working;
    if (working) {
      // The kernel's progress messages: 'Committing… storing 120 MiB / 490 MiB'.
      const p = working.progress;
      const bytes = p && p.total > 0 ? ` ${size(p.done)} / ${size(p.total)}` : '';
      text = `${working.action === 'commit' ? 'Committing' : 'Checking out'}…${p ? ` ${p.what}` : ''}${bytes}`;
    } else if (model.notice) {
      ({ text, error } = model.notice);
    } else if (!model.notebook) {
      text = 'Open a notebook to see its versions.';
    } else if (model.logError) {
      text = model.logError;
    } else if (model.log && !model.log.versions.length) {
      text = 'No versions yet: commit one (Commit… or %mv_commit).';
    }
    this.noteNode.textContent = text;
    this.noteNode.classList.toggle('jp-mvc-error', error);
  }

  private renderDetails(shown: Details): void {
    this.detailsNode.textContent = '';
    this.detailsNode.classList.toggle('jp-mvc-diff', shown?.kind === 'diff');
    if (shown?.kind === 'version') {
      const v = shown.version;
      const rows = v.variables.map(x => [x.name, shortType(x.type), x.summary_line]);
      const scalars = Object.entries(v.metrics.scalars ?? {}).map(([k, val]) => [
        k,
        num(val)
      ]);
      const params = Object.entries(v.params).map(([k, val]) => [
        k,
        JSON.stringify(val)
      ]);
      this.detailsNode.append(
        heading(`${v.info.short_id}: ${v.info.subject}`),
        table(['variable', 'type', 'summary'], rows, 2, v.variables.map(x => x.type)),
        ...(scalars.length ? [table(['metric', 'value'], scalars, 1)] : []),
        ...(params.length ? [table(['param', 'value'], params, 1)] : [])
      );
    } else if (shown?.kind === 'diff') {
      const d = shown.diff;
      const rows = d.variables.map(c => [
        c.name,
        c.status,
        c.old ? c.old_line : '—',
        c.new ? c.new_line : '—'
      ]);
      const changes = [
        ...Object.entries(d.metrics),
        ...Object.entries(d.params)
      ].map(([k, [a, b]]) => [k, JSON.stringify(a), JSON.stringify(b)]);
      this.detailsNode.append(
        heading(`${d.old.short_id} → ${d.new.short_id}`),
        table(['variable', 'change', 'old', 'new'], rows, 2),
        ...(changes.length
          ? [table(['metric/param', 'old', 'new'], changes, 1)]
          : [])
      );
    }
  }

  private row(v: ILogEntry): HTMLElement {
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
      if (pick.checked) {
        this.selected.add(v.id);
      } else {
        this.selected.delete(v.id);
      }
      this.updateCompare();
    };
    const main = div('jp-mvc-main');
    const subject = document.createElement('a');
    subject.className = 'jp-mvc-subject';
    subject.textContent = v.subject || '(no message)';
    subject.title = `${v.message}\n${v.short_id} by ${v.author}\nvariables: ${v.variables.join(', ')}`;
    subject.onclick = () => void this.model.details(v.id).catch(ignore);
    // The message has the first line(s) to itself; branches, tags, id, age and metrics share
    // the line below, elided first (all of it in the tooltip).
    const refs = [
      ...v.branches.map(b => badge(b, 'jp-mvc-branch')),
      ...v.tags.map(t => badge(t, 'jp-mvc-tag'))
    ];
    const meta = div('jp-mvc-meta');
    const facts = [
      v.short_id,
      age(v.time),
      ...Object.entries(v.metrics).map(([k, val]) => `${k}=${num(val)}`)
    ]
      .filter(Boolean)
      .join(' · ');
    meta.append(...refs, facts);
    meta.title = [...v.branches, ...v.tags.map(t => `tag ${t}`), facts].join(' · ');
    main.append(subject, meta);
    const checkout = button('Check out', 'jp-mvc-checkout', () =>
      void this.checkout(v)
    );
    checkout.title = `Load ${v.short_id}'s variables into this notebook's kernel`;
    // Check out, and below it (both compact) Merge into <current> on another branch's tip.
    const actions = div('jp-mvc-actions');
    const merge = this.mergeButton(v);
    actions.classList.toggle('jp-mvc-compact', !!merge);
    actions.append(checkout, ...(merge ? [merge] : []));
    row.append(pick, main, actions);
    return row;
  }

  /** "Merge into <current>" on the tip of a branch other than the current one, unless the
   * current branch has it already (none while HEAD is detached). Branches sharing a tip
   * share the button: it merges the first (the same version either way). */
  private mergeButton(v: ILogEntry): HTMLButtonElement | null {
    const into = this.model.log?.branch;
    const branch = v.branches.find(b => b !== into);
    if (!into || !branch || this.merged.has(v.id)) {
      return null;
    }
    const node = button(`Merge into ${into}`, 'jp-mvc-merge', () =>
      void this.model.merge(branch).catch(ignore)
    );
    node.dataset.branch = branch;
    node.disabled = !!this.model.merging;
    node.title =
      `Merge ${branch} into ${into}: a new version of ${into} with two parents, decided ` +
      'variable by variable. The kernel is unchanged.';
    return node;
  }

  private updateCompare(): void {
    this.compareButton.disabled = this.selected.size !== 2;
    this.compareButton.title = 'Tick two versions, then compare them';
  }

  private async commit(): Promise<void> {
    if (!this.model.notebook) {
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
    // The model shows the outcome (its notice); nothing more to do here.
    await this.model.commit(answer.value).catch(ignore);
  }

  private async checkout(v: ILogEntry, force = false, allow: string[] = []): Promise<void> {
    try {
      const result = await this.model.checkout(v.id, force, allow);
      const refused = [...new Set(Object.values(result.untrusted))];
      if (refused.length && !allow.length) {
        // Name exactly what would be trusted, and only for this load.
        const body = document.createElement('p');
        body.className = 'jp-mvc-trust-dialog';
        body.textContent =
          `Not loaded: ${Object.keys(result.untrusted).join(', ')}. They name classes outside ` +
          `the safe list, and loading them could run code: ${refused.join(', ')}. ` +
          "Trust these for this check out only if you trust the version's author.";
        const ok = await showDialog({
          title: `Trust and retry ${v.short_id}?`,
          body: new Widget({ node: body }),
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: `Trust ${refused.length === 1 ? refused[0] : `${refused.length} classes`} and retry` })
          ]
        });
        if (ok.button.accept) {
          return this.checkout(v, true, refused);
        }
      }
    } catch (err) {
      // Decided on the error's type, never on its text.
      if (!force && err instanceof KernelError && err.error === DIRTY_CHECKOUT) {
        const names = err.names.length ? err.names.join(', ') : 'variables';
        const body = document.createElement('p');
        body.className = 'jp-mvc-dirty-dialog';
        body.textContent =
          `Checking out ${v.short_id} would overwrite ${names}, changed since the last ` +
          'commit. Discard the changes, or cancel and commit them first (Commit…).';
        const ok = await showDialog({
          title: `Check out ${v.short_id}?`,
          body: new Widget({ node: body }),
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: 'Discard changes and check out' })
          ]
        });
        if (ok.button.accept) {
          return this.checkout(v, true);
        }
      }
      // Any other error is already the model's notice.
    }
  }

  private async compare(): Promise<void> {
    const versions = this.model.log?.versions ?? [];
    if (this.selected.size !== 2) {
      return;
    }
    // Older first: the list is newest first.
    const [newer, older] = versions.filter(v => this.selected.has(v.id));
    await this.model.compare(older.id, newer.id).catch(ignore);
  }
}

/**
 * The remote row: [remote] Push ↑N  Pull ↓M  Fetch, a busy indicator while one runs, and
 * where the branch stands as last fetched. Built once and updated in place, so a refresh
 * never closes the remote picker under the pointer. No remote: a one-line hint.
 */
class SyncRow {
  readonly node = div('jp-mvc-sync');
  private hint = div('jp-mvc-sync-hint');
  private controls = div('jp-mvc-sync-controls');
  private picker = document.createElement('select');
  private name = document.createElement('span');
  private push: HTMLButtonElement;
  private pull: HTMLButtonElement;
  private fetch: HTMLButtonElement;
  private busy = div('jp-mvc-busy');
  private busyText = document.createElement('span');
  private meta = div('jp-mvc-sync-meta');

  constructor(private model: VersionsModel) {
    this.hint.textContent = 'Add a remote: %mv_remote add origin URL';
    this.picker.className = 'jp-mvc-remote';
    this.picker.title = 'The remote Push, Pull and Fetch use';
    this.picker.onchange = () => model.selectRemote(this.picker.value);
    this.name.className = 'jp-mvc-remote-name';
    this.push = button('Push', 'jp-mvc-push', () => this.run('push'));
    this.pull = button('Pull', 'jp-mvc-pull', () => this.run('pull'));
    this.fetch = button('Fetch', 'jp-mvc-fetch', () => this.run('fetch'));
    this.fetch.title = "Bring the remote's history: its branches, and what is new there";
    const spinner = document.createElement('span');
    spinner.className = 'jp-mvc-spinner';
    this.busy.append(spinner, this.busyText);
    this.busy.setAttribute('role', 'status');
    this.controls.append(this.picker, this.name, this.push, this.pull, this.fetch);
    this.node.append(this.hint, this.controls, this.busy, this.meta);
  }

  render(): void {
    const model = this.model;
    const state = model.remotes;
    const remote = model.remote;
    // Only for a notebook in a repository; not while it loads.
    this.node.hidden = !model.notebook || !model.log || (!state && !model.remotesError);
    this.hint.hidden = !state || !!remote;
    this.controls.hidden = !remote;
    if (!state || !remote) {
      this.busy.hidden = true;
      this.meta.textContent = model.remotesError;
      return;
    }
    this.renderPicker(state.remotes, remote);
    const syncing = model.syncing;
    const branch = state.branch;
    this.push.textContent = `Push ↑${remote.ahead}`;
    this.pull.textContent = `Pull ↓${remote.behind}`;
    this.push.disabled = !!syncing || !branch;
    this.pull.disabled = !!syncing || !branch;
    this.fetch.disabled = !!syncing;
    const versions = (n: number) => `${n} version${n === 1 ? '' : 's'}`;
    this.push.title = branch
      ? `Upload ${branch}: ${versions(remote.ahead)} ${remote.name} lacks (as last fetched)`
      : 'Switch to a branch to push it (HEAD is detached)';
    this.pull.title = branch
      ? `Fetch, then bring ${branch} up to ${remote.name}/${branch}: ${versions(remote.behind)} new there (as last fetched)`
      : 'Switch to a branch to pull into it (HEAD is detached)';
    this.busy.hidden = !syncing;
    if (syncing) {
      const op = syncing.operation;
      const bytes = op && op.total > 0 ? ` ${size(op.done)} / ${size(op.total)}` : '';
      this.busyText.textContent = `${DOING[syncing.op]} ${syncing.remote}…${bytes}`;
    }
    this.meta.textContent = where(remote, branch);
  }

  private renderPicker(remotes: IRemoteState[], remote: IRemoteState): void {
    const names = remotes.map(r => r.name);
    if (Array.from(this.picker.options, o => o.value).join('\n') !== names.join('\n')) {
      this.picker.textContent = '';
      names.forEach(n => this.picker.add(new Option(n, n)));
    }
    this.picker.value = remote.name;
    this.picker.disabled = !!this.model.syncing;
    this.picker.hidden = names.length < 2;
    this.name.hidden = names.length > 1;
    this.name.textContent = remote.name;
    this.name.title = remote.url;
    this.picker.title = `The remote Push, Pull and Fetch use (${remote.url})`;
  }

  private run(op: SyncOp): void {
    // The model shows the outcome (its notice), errors included.
    void this.model.sync(op).catch(ignore);
  }
}

/**
 * A merge that stopped on conflicts: each conflict (names, kind, both sides) with a choice
 * (ours / theirs, and the weight strategies where they apply), "Merge with these choices"
 * and Cancel. Rebuilt only for a new stop, so a refresh never resets a choice made.
 */
class MergePanel {
  readonly node = div('jp-mvc-merge-panel');
  private shown: IMergeStopped | null = null;
  private choices: HTMLSelectElement[] = [];
  private resolve: HTMLButtonElement;
  private cancel: HTMLButtonElement;

  constructor(private model: VersionsModel) {
    this.resolve = button('Merge with these choices', 'jp-mvc-merge-resolve', () =>
      this.merge()
    );
    this.cancel = button('Cancel', 'jp-mvc-merge-cancel', () => model.cancelMerge());
    this.node.hidden = true;
  }

  render(): void {
    const stopped = this.model.stopped;
    if (stopped !== this.shown) {
      this.shown = stopped;
      this.build(stopped);
    }
    this.node.hidden = !stopped;
    this.resolve.disabled = !!this.model.merging || this.choices.some(c => !c.value);
    this.cancel.disabled = !!this.model.merging;
    this.choices.forEach(c => (c.disabled = !!this.model.merging));
  }

  private build(stopped: IMergeStopped | null): void {
    this.node.textContent = '';
    this.choices = [];
    if (!stopped) {
      return;
    }
    const { rev, into, conflicts } = stopped;
    const title = div('jp-mvc-merge-title');
    title.textContent =
      `Merging ${rev} into ${into} stopped: ${conflicts.length} ` +
      `conflict${conflicts.length === 1 ? '' : 's'}. Nothing was written. ` +
      'Choose how to resolve each:';
    const items = conflicts.map(c => this.conflict(c, stopped));
    const hint = div('jp-mvc-merge-hint');
    hint.textContent = KERNEL_UNCHANGED;
    const actions = div('jp-mvc-merge-actions');
    actions.append(this.resolve, this.cancel);
    this.node.append(title, ...items, hint, actions);
  }

  private conflict(c: IMergeConflict, stopped: IMergeStopped): HTMLElement {
    const node = div('jp-mvc-conflict');
    const head = div('jp-mvc-conflict-head');
    const names = document.createElement('span');
    names.className = 'jp-mvc-conflict-names';
    names.textContent = c.names.join(', ');
    const kind = document.createElement('span');
    kind.className = 'jp-mvc-conflict-kind';
    kind.textContent = c.kind;
    head.append(names, kind);
    const detail = document.createElement('pre');
    detail.className = 'jp-mvc-conflict-detail';
    detail.textContent = c.detail.join('\n');
    const select = document.createElement('select');
    select.className = 'jp-mvc-conflict-choice';
    select.dataset.names = c.names.join(',');
    const placeholder = new Option('choose…', '');
    placeholder.disabled = true;
    select.add(placeholder);
    select.add(new Option(`ours (${stopped.into})`, 'ours'));
    select.add(new Option(`theirs (${stopped.rev})`, 'theirs'));
    c.strategies.forEach(s => select.add(new Option(s, s)));
    select.value = '';
    const whole = c.names.length > 1 ? ' (the group as one: every name from one side)' : '';
    select.title = c.strategies.length
      ? 'Keep one side, or combine the same-shaped weights: average, or ' +
        'task-arithmetic (base + both changes)'
      : `Keep one side${whole}`;
    select.onchange = () => this.render();
    this.choices.push(select);
    const label = document.createElement('label');
    label.className = 'jp-mvc-conflict-pick';
    label.append('Resolve with ', select);
    node.append(head, detail, label);
    return node;
  }

  private merge(): void {
    const stopped = this.shown;
    if (!stopped) {
      return;
    }
    const take: Record<string, MergeSide> = {};
    const strategy: Record<string, MergeStrategy> = {};
    stopped.conflicts.forEach((c, i) => {
      const choice = this.choices[i].value;
      if (choice === 'ours' || choice === 'theirs') {
        c.names.forEach(n => (take[n] = choice));
      } else if (choice) {
        strategy[c.names[0]] = choice as MergeStrategy;
      }
    });
    // The model shows the outcome: merged (notice), stopped again (this panel), or an error.
    void this.model.merge(stopped.rev, take, strategy).catch(ignore);
  }
}

/** `head` and every version it descends from, as far as `versions` lists them. */
function ancestors(versions: ILogEntry[], head: string | null): Set<string> {
  const parents = new Map(versions.map(v => [v.id, v.parents]));
  const seen = new Set<string>();
  const todo = head ? [head] : [];
  while (todo.length) {
    const id = todo.pop() as string;
    if (!seen.has(id)) {
      seen.add(id);
      todo.push(...(parents.get(id) ?? []));
    }
  }
  return seen;
}

/** Where the branch stands against `remote`, as last fetched. */
function where(remote: IRemoteState, branch: string | null): string {
  const heard = remote.heard_at ? ` · synced ${age(remote.heard_at)}` : '';
  if (!branch) {
    return `HEAD is detached${heard}`;
  }
  if (remote.tracking) {
    return `${remote.name}/${branch} at ${remote.tracking.slice(0, 8)}${heard}`;
  }
  if (remote.heard_at || Object.keys(remote.branches).length) {
    return `${remote.name} has no ${branch} yet: Push shares it${heard}`;
  }
  return `${remote.name}: not fetched yet`;
}

function size(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/** For errors the model already shows as its notice. */
function ignore(): void {
  /* shown by the model */
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

/** `org.pkg.mod.Class` -> `Class` (the whole name in the cell's tooltip). */
function shortType(type: string): string {
  return type.split('.').pop() || type;
}

/**
 * A table for a narrow sidebar: headers and the first `long` columns keep their words
 * whole; the columns from `long` on (reprs, values) break anywhere and take what is left.
 * `tips`: a tooltip per row for its second cell (the full type name).
 */
function table(head: string[], rows: string[][], long = head.length, tips?: string[]): HTMLTableElement {
  const node = document.createElement('table');
  const tr = node.createTHead().insertRow();
  head.forEach(h => (tr.insertCell().textContent = h));
  const body = node.createTBody();
  rows.forEach((r, i) => {
    const row = body.insertRow();
    r.forEach((cell, j) => {
      const td = row.insertCell();
      if (j >= long) {
        // At most a few lines of a long repr; all of it in the tooltip.
        td.className = 'jp-mvc-long';
        const clamp = document.createElement('div');
        clamp.className = 'jp-mvc-clamp';
        clamp.textContent = cell;
        clamp.title = cell;
        td.appendChild(clamp);
      } else {
        td.textContent = cell;
      }
      if (j === 1 && tips) {
        td.title = tips[i];
      }
    });
  });
  return node;
}
