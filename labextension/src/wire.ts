// Every JSON shape that crosses the wire, in one place:
//   * the server extension's REST replies (<base_url>/jupyter-mvc/...), written by
//     jupyter_mvc/server/handlers.py and views.py;
//   * the requests and replies of the "jupyter_mvc" kernel comm (jupyter_mvc/magics).
// tests/functional/test_wire_keys.py parses the `export interface` blocks below (one
// `key: type` or `key?: type` line per field) and compares their keys with the JSON the
// real server sends, so keep one field per line and no other interfaces in this file.

// -- REST: shared --------------------------------------------------------------------------

/** One version as the server describes it (views.info_json). */
export interface IVersionInfo {
  id: string;
  short_id: string;
  parents: string[];
  subject: string;
  message: string;
  author: string;
  /** Seconds since the epoch. */
  time: number;
  variables: string[];
  /** Headline metrics: scalars plus the last point of each series. */
  metrics: Record<string, number | null>;
  branches: string[];
  tags: string[];
  is_head: boolean;
}

/** A 4xx reply: `message` says what was wrong and how to fix it. */
export interface IErrorReply {
  /** 'bad_request' | 'forbidden' | 'not_found' | 'conflict' | 'unprocessable' | 'remote_error' | 'error' */
  error: string;
  message: string;
}

// -- REST: GET log?path=NB[&all=1][&limit=N] ---------------------------------------------

/** A row of the log: a version and its lane in the graph. */
export interface ILogEntry extends IVersionInfo {
  lane: number;
}

export interface ILog {
  head: string | null;
  branch: string | null;
  /** How many lanes the graph needs. */
  lanes: number;
  /** Newest first. */
  versions: ILogEntry[];
  /** The repository's folder on the server. */
  root: string;
}

// -- REST: GET version?path=NB&rev=REV ---------------------------------------------------

export interface IVariable {
  name: string;
  type: string;
  size: number;
  summary: Record<string, unknown>;
  summary_line: string;
}

export interface IMetrics {
  scalars: Record<string, number | null>;
  /** name -> [[step, value], ...] */
  series: Record<string, [number | null, number | null][]>;
}

export interface IVersion {
  info: IVersionInfo;
  variables: IVariable[];
  metrics: IMetrics;
  /** name -> digest of each metric series. */
  series: Record<
    string,
    { points: number; last: number | null; best: number | null }
  >;
  params: Record<string, unknown>;
  env: Record<string, unknown>;
  files: string[];
}

// -- REST: GET diff?path=NB&old=REV[&new=REV] --------------------------------------------

export interface ITensorDelta {
  path: string;
  old_shape: number[] | null;
  new_shape: number[] | null;
  changed: number | null;
  total: number | null;
  max_abs_delta: number | null;
}

export interface IVariableChange {
  name: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  old: Record<string, unknown> | null;
  new: Record<string, unknown> | null;
  /** One-line forms of `old` / `new` ('' for none). */
  old_line: string;
  new_line: string;
  tensors: ITensorDelta[];
}

export interface IDiff {
  old: IVersionInfo;
  new: IVersionInfo;
  /** Only the variables that changed (added, removed or changed). */
  variables: IVariableChange[];
  /** Names of the unchanged variables. */
  unchanged: string[];
  /** name -> [old, new], only those that differ. */
  params: Record<string, [unknown, unknown]>;
  /** Scalar metrics: name -> [old, new], only those that differ. */
  metrics: Record<string, [unknown, unknown]>;
}

// -- REST: POST tag {path, name, rev} ----------------------------------------------------

export interface ITagReply {
  tag: string;
  version: IVersionInfo;
}

// -- REST: remotes (jupyter_mvc/server/remotes.py) ----------------------------------------

/** push, pull or fetch. */
export type SyncOp = 'push' | 'pull' | 'fetch';

/** A push, pull or fetch the server runs (or ran last) for a repository. */
export interface IOperation {
  op: SyncOp;
  remote: string;
  running: boolean;
  /** The stage the transfer reports ('push', 'fetch'); '' before its first report. */
  what: string;
  /** Bytes moved so far and in all (0: not known yet). */
  done: number;
  total: number;
  /** Seconds since the epoch. */
  started: number;
  finished: number | null;
  /** Why it failed (the error reply's message); null: it worked, or still runs. */
  error: string | null;
}

/** One remote, and the current branch against it as last fetched (no network). */
export interface IRemoteState {
  name: string;
  url: string;
  /** Its server ignores conditional writes (accepted by the user). */
  unsafe: boolean;
  /** The remote's branches as the last fetch, pull or push saw them: branch -> version. */
  branches: Record<string, string>;
  /** <remote>/<current branch> as last seen; null: not there, or never fetched. */
  tracking: string | null;
  /** Versions of the current branch only here (to push). */
  ahead: number;
  /** Versions of <remote>/<branch> only there (to pull). */
  behind: number;
  /** When this server last pushed, pulled or fetched with it and it worked (seconds since
   * the epoch); null: not since the server started. */
  heard_at: number | null;
}

// GET remotes?path=NB
export interface IRemotes {
  /** The current branch; null: HEAD is detached. */
  branch: string | null;
  /** 'origin' first, then by name; empty: the project has no remote. */
  remotes: IRemoteState[];
  /** The operation running in this repository, or the last one this server ran. */
  operation: IOperation | null;
}

// GET progress?path=NB (polled while an operation runs)
export interface IProgress {
  operation: IOperation | null;
}

// POST push | pull | fetch {path, remote}

/** What a push did (jupyter_mvc.remote.reports.PushReport). */
export interface IPushReport {
  remote: string;
  /** 'heads/main' -> [old, new] on the remote; empty: everything was up to date. */
  moved: Record<string, [string | null, string]>;
  versions: number;
  chunks: number;
  bytes_uploaded: number;
  packs: number;
  chunks_already_there: number;
  history_bytes: number;
  seconds: number;
  /** The Git remote that also receives refs/mvc/* on push, if any. */
  git_remote: string | null;
  /** ref -> why that Git remote refused it (nothing is forced). */
  git_refused: Record<string, string>;
}

/** What a fetch did (FetchReport). */
export interface IFetchReport {
  remote: string;
  /** Remote branch -> [old, new] tracking version, only those that moved. */
  branches: Record<string, [string | null, string | null]>;
  new_tags: string[];
  conflicting_tags: string[];
  bundles: number;
  prefetched_bytes: number;
  seconds: number;
}

/** What a pull did (PullReport). */
export interface IPullReport {
  fetch: IFetchReport;
  branch: string;
  old: string | null;
  new: string | null;
  /** 'fast-forward' | 'up to date' | 'ahead' */
  outcome: string;
}

export interface ISyncReply<R> {
  op: SyncOp;
  remote: string;
  /** The lines %mv_push / %mv_pull / %mv_fetch print. */
  message: string;
  report: R;
}

// -- REST: POST merge {path, rev, take?, strategy?} (jupyter_mvc/server/merge.py) -----------

/** How a conflict is resolved by side (`take`): keep our variable, or theirs. */
export type MergeSide = 'ours' | 'theirs';

/** How same-shaped weights are combined (`strategy`). */
export type MergeStrategy = 'average' | 'task-arithmetic';

/** What a merge did. The kernel is unchanged: checking out the merged version loads it. */
export interface IMergeReply {
  /** 'merged' | 'fast-forward' | 'up to date' */
  outcome: string;
  /** The merge version (two parents), or the tip fast-forwarded to; null: none. */
  version: IVersionInfo | null;
  /** variable -> how it was decided: 'ours', 'theirs', 'both', 'theirs (--take)', 'average'... */
  taken: Record<string, string>;
  /** e.g. how the notebook was merged. */
  notes: string[];
  /** The lines %mv_merge prints. */
  message: string;
}

/** One conflict of a merge that stopped (a variable, or a group merged as one unit). */
export interface IMergeConflict {
  names: string[];
  /** e.g. 'changed on both sides', 'deleted here, changed there' */
  kind: string;
  /** One line per side (summary, metrics) and how far apart the values are. */
  detail: string[];
  /** The strategies that can resolve it; empty: resolve it by side only. */
  strategies: MergeStrategy[];
}

/** The 409 of a merge that stopped on conflicts; nothing was written. */
export interface IMergeConflictReply extends IErrorReply {
  /** 'MergeConflictError' */
  error: string;
  conflicts: IMergeConflict[];
}

/** The `error` of a merge that stopped on conflicts. */
export const MERGE_CONFLICT = 'MergeConflictError';

// -- Kernel comm "jupyter_mvc" -------------------------------------------------------------

export type CommAction = 'status' | 'commit' | 'checkout' | 'notebook';

/** What the front-end sends; user text travels here as data, never as code. */
export interface ICommRequest {
  id: number;
  action: CommAction;
  rev?: string;
  message?: string;
  names?: string[];
  force?: boolean;
  /** Classes to trust for this one checkout ("Trust and retry"). */
  allow?: string[];
  /** `notebook`: the notebook's path and its live document (nbformat JSON). */
  path?: string;
  content?: unknown;
  /** `commit` / `checkout`: send ICommProgress messages while it runs. */
  progress?: boolean;
}

/** Where a commit or checkout is, in bytes (per stage). */
export interface IStepProgress {
  /** 'serialising' | 'storing' | 'loading' */
  what: string;
  done: number;
  /** 0: not known yet (e.g. while serialising). */
  total: number;
}

/** Sent zero or more times before the reply of a request that asked for progress. */
export interface ICommProgress {
  id: number;
  progress: IStepProgress;
}

/** `notebook`: the live document was kept for the next commit (its size in bytes). */
export interface INotebookResult {
  stored: number;
}

/** `commit`: what was captured. */
export interface ICommitResult {
  id: string;
  short_id: string;
  branch: string | null;
  variables: string[];
  /** name -> why it was not captured */
  skipped: Record<string, string>;
  secrets: string[];
  not_captured: string[];
  metrics: Record<string, number | null>;
  /** Bytes of the variables committed. */
  size: number;
  /** Bytes the store did not hold yet (what this version cost on disk). */
  added: number;
  /** The text the magic prints. */
  message: string;
}

/** `checkout`: what was loaded into the kernel. */
export interface ICheckoutResult {
  id: string;
  short_id: string;
  branch: string | null;
  restored: string[];
  left_alone: string[];
  /** name -> why it could not be restored */
  failed: Record<string, string>;
  /** name -> the class the safe loader refused (a subset of `failed`) */
  untrusted: Record<string, string>;
  left_behind: string | null;
  message: string;
}

/** `status`: the kernel's version and how its variables differ from it. */
export interface IStatusResult {
  version: string | null;
  branch: string | null;
  changed: string[];
  unchanged: string[];
  new: string[];
  missing: string[];
  message: string;
}

/** The result type of an action. */
export type ResultOf<A extends CommAction> = A extends 'status'
  ? IStatusResult
  : A extends 'commit'
    ? ICommitResult
    : A extends 'checkout'
      ? ICheckoutResult
      : INotebookResult;

export interface ICommSuccess<R> {
  id: number;
  ok: true;
  result: R;
}

export interface ICommError {
  id: number;
  ok: false;
  /** The Python exception class name, e.g. 'DirtyCheckoutError', 'RevisionError'. */
  error: string;
  message: string;
  /** DirtyCheckoutError: the variables a checkout would overwrite. */
  names?: string[];
}

export type CommReply<R = unknown> = ICommSuccess<R> | ICommError;

/** The comm error type of a checkout refused because it would discard changes. */
export const DIRTY_CHECKOUT = 'DirtyCheckoutError';
