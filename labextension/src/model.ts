// The one model of the extension: the active notebook, its repository's log and remotes,
// its kernel's status, the details shown, the push / pull / fetch or merge running, a
// merge stopped on conflicts, and the last message. The sidebar and the status bar item
// observe `changed` and only render; all fetching happens here.
import { ISessionContext } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, VersionsApi } from './api';
import { KernelBridge, KernelError } from './kernel';
import {
  DIRTY_CHECKOUT,
  ICheckoutResult,
  ICommitResult,
  IDiff,
  ILog,
  IMergeConflict,
  IMergeConflictReply,
  IMergeReply,
  IOperation,
  IRemoteState,
  IRemotes,
  IStatusResult,
  IStepProgress,
  ISyncReply,
  IVersion,
  MERGE_CONFLICT,
  MergeSide,
  MergeStrategy,
  SyncOp
} from './wire';

/** How often a running push / pull / fetch is asked for its progress. */
const POLL_MS = 500;

/** A line for the user: the result of the last action, or what went wrong. */
export interface INotice {
  text: string;
  error: boolean;
}

/** What the details area shows: one version, or the diff of two. */
export type Details =
  | { kind: 'version'; version: IVersion }
  | { kind: 'diff'; diff: IDiff }
  | null;

/** A push, pull or fetch that runs now. */
export interface ISyncing {
  op: SyncOp;
  remote: string;
  /** The server's view of it (bytes done / total), once a poll has answered. */
  operation: IOperation | null;
}

/** A commit or checkout the kernel runs now for the sidebar, and how far it got. */
export interface IWorking {
  action: 'commit' | 'checkout';
  /** The kernel's last progress message; null until the first one. */
  progress: IStepProgress | null;
}

/** A merge never touches the kernel: said after each one that moved the branch. */
export const KERNEL_UNCHANGED =
  'The kernel is unchanged; check out the merged version to load it.';

/** A merge that stopped on conflicts (nothing was written), waiting for choices. */
export interface IMergeStopped {
  /** What was merged (a branch). */
  rev: string;
  /** The branch it was merged into. */
  into: string;
  conflicts: IMergeConflict[];
}

/** The kernel side, as the status bar shows it. */
export type KernelState =
  | { kind: 'none' } // no notebook, or not asked yet
  | { kind: 'no-versions' } // the repository has no versions: the kernel is left alone
  | { kind: 'no-kernel' }
  | { kind: 'status'; status: IStatusResult }
  | { kind: 'error'; message: string };

export class VersionsModel implements IDisposable {
  constructor(
    private api: VersionsApi = new VersionsApi(),
    private bridge: KernelBridge = new KernelBridge()
  ) {}

  /** Emitted whenever anything below changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get notebook(): NotebookPanel | null {
    return this._notebook;
  }

  /** The log of the active notebook's repository (all branches), or null. */
  get log(): ILog | null {
    return this._log;
  }

  /** Why there is no log (e.g. not in a Git repository), or ''. */
  get logError(): string {
    return this._logError;
  }

  get kernel(): KernelState {
    return this._kernel;
  }

  /** The remotes of the active notebook's repository and the current branch against
   * each (as last fetched), or null (not loaded yet, or no repository). */
  get remotes(): IRemotes | null {
    return this._remotes;
  }

  /** Why the remotes could not be read, or ''. */
  get remotesError(): string {
    return this._remotesError;
  }

  /** The remote Push / Pull / Fetch use: the one picked, else 'origin', else the first. */
  get remote(): IRemoteState | null {
    const all = this._remotes?.remotes ?? [];
    return (
      all.find(r => r.name === this._remote) ??
      all.find(r => r.name === 'origin') ??
      all[0] ??
      null
    );
  }

  /** Use the remote `name` for Push / Pull / Fetch. */
  selectRemote(name: string): void {
    this._remote = name;
    this.emit();
  }

  /** The push / pull / fetch running: started here, or one the server says another
   * window started in this repository. */
  get syncing(): ISyncing | null {
    if (this._syncing) {
      return this._syncing;
    }
    const op = this._remotes?.operation;
    return op?.running ? { op: op.op, remote: op.remote, operation: op } : null;
  }

  get notice(): INotice | null {
    return this._notice;
  }

  /** The commit or checkout running in the active notebook's kernel, or null. */
  get working(): IWorking | null {
    const w = this._working;
    return w && w.panel === this._notebook ? w.working : null;
  }

  /** The branch (or rev) being merged into the current branch now, or null. */
  get merging(): string | null {
    return this._merging;
  }

  /** The last merge, when it stopped on conflicts; null once merged or cancelled. */
  get stopped(): IMergeStopped | null {
    return this._stopped;
  }

  /** What the details area shows. */
  get shown(): Details {
    return this._details;
  }

  /** Whether the first load for the current notebook is still running. */
  get loading(): boolean {
    return this._loading;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Follow `panel` (the active notebook, or null). */
  setNotebook(panel: NotebookPanel | null): void {
    if (panel === this._notebook) {
      return;
    }
    this._notebook?.sessionContext.kernelChanged.disconnect(this.onKernel, this);
    this._notebook = panel;
    panel?.sessionContext.kernelChanged.connect(this.onKernel, this);
    this._log = null;
    this._logError = '';
    this._remotes = null;
    this._remotesError = '';
    this._kernel = { kind: 'none' };
    this._notice = null;
    this._details = null;
    this._stopped = null;
    this._loading = !!panel;
    this.emit();
    void this.refresh();
  }

  /**
   * Reload the log and the kernel status. Calls while a refresh runs coalesce into one
   * more refresh after it, so a caller always sees state newer than its call.
   */
  refresh(): Promise<void> {
    if (this._refreshing) {
      this._again = true;
      return this._refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this._again = false;
        await this.load();
      } while (this._again && !this._isDisposed);
    };
    this._refreshing = run().finally(() => (this._refreshing = null));
    return this._refreshing;
  }

  /** Commit the kernel's variables; the message travels as comm data, never as code. */
  async commit(message: string): Promise<ICommitResult> {
    const panel = this.need();
    try {
      // The version holds the notebook as it is on screen: save it first.
      await panel.context.save();
      const result = await this.bridge.request(
        panel.sessionContext,
        { action: 'commit', message },
        this.work(panel, 'commit')
      );
      this.done(panel);
      await this.refresh();
      this.say(result.message, false, panel);
      return result;
    } catch (err) {
      this.done(panel);
      this.say((err as Error).message, true, panel);
      throw err;
    }
  }

  /** Mark a commit or checkout as running; returns what its progress messages call. */
  private work(
    panel: NotebookPanel,
    action: IWorking['action']
  ): (progress: IStepProgress) => void {
    const working: IWorking = { action, progress: null };
    this._working = { panel, working };
    this.emit();
    return progress => {
      if (this._working?.working === working) {
        working.progress = progress;
        this.emit();
      }
    };
  }

  private done(panel: NotebookPanel): void {
    if (this._working?.panel === panel) {
      this._working = null;
      this.emit();
    }
  }

  /**
   * Check out `rev` into the kernel. A checkout that would discard changes rejects with a
   * KernelError whose `error` is 'DirtyCheckoutError' and whose `names` lists them; the
   * caller may ask the user and call again with `force`. Variables refused by the safe
   * loader come back in `result.untrusted` (variable -> class); `allow` retries with
   * exactly those classes trusted for this one load.
   */
  async checkout(rev: string, force = false, allow: string[] = []): Promise<ICheckoutResult> {
    const panel = this.need();
    try {
      const result = await this.bridge.request(
        panel.sessionContext,
        { action: 'checkout', rev, force, ...(allow.length ? { allow } : {}) },
        this.work(panel, 'checkout')
      );
      this.done(panel);
      await this.refresh();
      this.say(result.message, false, panel);
      return result;
    } catch (err) {
      this.done(panel);
      if (!(err instanceof KernelError && err.error === DIRTY_CHECKOUT)) {
        this.say((err as Error).message, true, panel);
      }
      throw err;
    }
  }

  /**
   * Hand the kernel the notebook as it is on screen, ahead of a cell that is about to run
   * (a `%mv_commit` or an autocommit then stores it, not the last saved file). Only when
   * the document changed since it was last handed over, and only on an open comm.
   */
  liveNotebook(panel: NotebookPanel): void {
    const model = panel.context.model;
    if (this.handedOver.get(model) === this.changes.get(model)) {
      return;
    }
    const sent = this.bridge.sendIfOpen(panel.sessionContext, {
      action: 'notebook',
      path: panel.context.path,
      content: model.toJSON()
    });
    if (sent) {
      this.handedOver.set(model, this.changes.get(model) ?? 0);
    }
  }

  /** Count edits of a notebook's document (for `liveNotebook`). */
  watch(panel: NotebookPanel): void {
    const model = panel.context.model;
    if (!this.changes.has(model)) {
      this.changes.set(model, 1);
      model.contentChanged.connect(() => this.changes.set(model, (this.changes.get(model) ?? 0) + 1));
    }
  }

  private changes = new WeakMap<object, number>();
  private handedOver = new WeakMap<object, number>();

  /**
   * Push the current branch to, pull it from, or fetch the selected remote. The server
   * does the work; meanwhile `syncing` says what runs (polled for bytes done / total).
   * After it, the counts and the versions are reloaded and the notice is its report, or
   * the error's message (which says what to do, e.g. merge when diverged).
   */
  async sync(op: SyncOp): Promise<ISyncReply<unknown> | null> {
    const panel = this.need();
    const remote = this.remote;
    if (!remote || this.syncing) {
      return null;
    }
    const path = panel.context.path;
    const syncing: ISyncing = { op, remote: remote.name, operation: null };
    this._syncing = syncing;
    this.emit();
    void this.follow(path, syncing);
    let reply: ISyncReply<unknown>;
    try {
      reply = await this.api.sync(op, path, remote.name);
    } catch (err) {
      this._syncing = null;
      this.say((err as Error).message, true, panel);
      await this.refresh(); // a refused pull may still have fetched: new counts
      throw err;
    }
    this._syncing = null;
    this.say(reply.message, false, panel);
    await this.refresh();
    return reply;
  }

  /**
   * Merge `rev` (a branch) into the current branch on the server; the kernel is left
   * alone. Merged: the versions are reloaded (the merge version has two parents) and the
   * notice is what the merge did. Stopped on conflicts: nothing was written, and
   * `stopped` lists them until the user merges again with `take` (by side) or `strategy`
   * (weights) for their names, or cancels; resolves to null. Other errors are the notice.
   */
  async merge(
    rev: string,
    take: Record<string, MergeSide> = {},
    strategy: Record<string, MergeStrategy> = {}
  ): Promise<IMergeReply | null> {
    const panel = this.need();
    const into = this._log?.branch;
    if (this._merging || !into) {
      return null;
    }
    this._merging = rev;
    this.say(`Merging ${rev} into ${into}…`, false, panel);
    let reply: IMergeReply;
    try {
      reply = await this.api.merge(panel.context.path, rev, take, strategy);
    } catch (err) {
      this._merging = null;
      // Decided on the error's type, never on its text.
      if (err instanceof ApiError && err.error === MERGE_CONFLICT) {
        const { conflicts } = err.reply as IMergeConflictReply;
        if (panel === this._notebook) {
          this._stopped = { rev, into, conflicts };
          this._notice = null;
        }
        this.emit();
        return null;
      }
      this.say((err as Error).message, true, panel);
      throw err;
    }
    this._merging = null;
    if (panel === this._notebook) {
      this._stopped = null;
    }
    await this.refresh();
    const moved = reply.outcome !== 'up to date';
    this.say(reply.message + (moved ? `\n${KERNEL_UNCHANGED}` : ''), false, panel);
    return reply;
  }

  /** Drop the merge that stopped on conflicts (nothing was written). */
  cancelMerge(): void {
    this._stopped = null;
    this._notice = null;
    this.emit();
  }

  /** Poll the progress of `syncing` until it is over. */
  private async follow(path: string, syncing: ISyncing): Promise<void> {
    for (;;) {
      await new Promise(resolve => window.setTimeout(resolve, POLL_MS));
      if (this._syncing !== syncing) {
        return;
      }
      try {
        const { operation } = await this.api.progress(path);
        if (this._syncing === syncing && operation?.running && operation.op === syncing.op) {
          syncing.operation = operation;
          this.emit();
        }
      } catch {
        // The operation's own reply says what went wrong.
      }
    }
  }

  /** Show one version in full. */
  async details(rev: string): Promise<IVersion> {
    const panel = this.need();
    try {
      const version = await this.api.version(panel.context.path, rev);
      if (panel === this._notebook) {
        this._details = { kind: 'version', version };
        this.emit();
      }
      return version;
    } catch (err) {
      this.say((err as Error).message, true, panel);
      throw err;
    }
  }

  /** Show what changed from `older` to `newer`. */
  async compare(older: string, newer: string): Promise<IDiff> {
    const panel = this.need();
    try {
      const diff = await this.api.diff(panel.context.path, older, newer);
      if (panel === this._notebook) {
        this._details = { kind: 'diff', diff };
        this.emit();
      }
      return diff;
    } catch (err) {
      this.say((err as Error).message, true, panel);
      throw err;
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._notebook?.sessionContext.kernelChanged.disconnect(this.onKernel, this);
    this._notebook = null;
    Signal.clearData(this);
  }

  private onKernel(_: ISessionContext): void {
    void this.refresh();
  }

  private need(): NotebookPanel {
    if (!this._notebook) {
      throw new Error('Open a notebook first.');
    }
    return this._notebook;
  }

  private say(text: string, error: boolean, panel: NotebookPanel): void {
    if (panel === this._notebook) {
      this._notice = text ? { text, error } : null;
      this.emit();
    }
  }

  private emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private async load(): Promise<void> {
    const panel = this._notebook;
    if (!panel) {
      return;
    }
    // Results for a notebook that is no longer active are dropped.
    const current = () => panel === this._notebook && !this._isDisposed;
    let log: ILog | null = null;
    try {
      await panel.context.ready;
      const remotes = this.loadRemotes(panel.context.path); // alongside the log
      log = await this.api.log(panel.context.path, true);
      const [got, why] = await remotes;
      if (!current()) {
        return;
      }
      this._log = log;
      this._logError = '';
      this._remotes = got;
      this._remotesError = why;
    } catch (err) {
      if (!current()) {
        return;
      }
      this._log = null;
      this._logError = (err as Error).message;
      this._remotes = null;
      this._remotesError = '';
    }
    this._loading = false;
    this.emit();
    this.watchOthers(panel);

    // Only a notebook whose repository has versions gets the extension loaded into its
    // kernel: opening any notebook should not change its kernel.
    let kernel: KernelState;
    if (!log) {
      kernel = { kind: 'error', message: this._logError };
    } else if (!log.versions.length) {
      kernel = { kind: 'no-versions' };
    } else if (!KernelBridge.hasKernel(panel.sessionContext)) {
      kernel = { kind: 'no-kernel' };
    } else {
      try {
        const status = await this.bridge.request(panel.sessionContext, {
          action: 'status'
        });
        kernel = { kind: 'status', status };
      } catch (err) {
        kernel = { kind: 'error', message: (err as Error).message };
      }
    }
    if (current()) {
      this._kernel = kernel;
      this.emit();
    }
  }

  private async loadRemotes(path: string): Promise<[IRemotes | null, string]> {
    try {
      return [await this.api.remotes(path), ''];
    } catch (err) {
      return [null, (err as Error).message];
    }
  }

  /** A push / pull / fetch another window runs here: reload the remotes until it ends. */
  private watchOthers(panel: NotebookPanel): void {
    if (this._syncing || !this._remotes?.operation?.running || this._watching) {
      return;
    }
    this._watching = true;
    window.setTimeout(() => {
      this._watching = false;
      if (panel !== this._notebook || this._isDisposed) {
        return;
      }
      void this.loadRemotes(panel.context.path).then(([got, why]) => {
        if (panel !== this._notebook || this._isDisposed) {
          return;
        }
        const wasRunning = !!this._remotes?.operation?.running;
        this._remotes = got;
        this._remotesError = why;
        if (wasRunning && !got?.operation?.running) {
          void this.refresh(); // it ended: its versions may be new here
        } else {
          this.emit();
          this.watchOthers(panel);
        }
      });
    }, POLL_MS * 2);
  }

  private _changed = new Signal<this, void>(this);
  private _notebook: NotebookPanel | null = null;
  private _log: ILog | null = null;
  private _logError = '';
  private _kernel: KernelState = { kind: 'none' };
  private _remotes: IRemotes | null = null;
  private _remotesError = '';
  private _remote = '';
  private _syncing: ISyncing | null = null;
  private _watching = false;
  private _notice: INotice | null = null;
  private _working: { panel: NotebookPanel; working: IWorking } | null = null;
  private _merging: string | null = null;
  private _stopped: IMergeStopped | null = null;
  private _details: Details = null;
  private _loading = false;
  private _isDisposed = false;
  private _refreshing: Promise<void> | null = null;
  private _again = false;
}
