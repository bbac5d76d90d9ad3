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
  /** 'bad_request' | 'forbidden' | 'not_found' | 'conflict' | 'error' */
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
