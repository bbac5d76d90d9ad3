// Requests to the server extension (<base_url>/jupyter-mvc/...). ServerConnection adds
// the auth token and the XSRF header that POSTs need. The reply shapes live in wire.ts.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  IDiff,
  IErrorReply,
  IFetchReport,
  ILog,
  IMergeReply,
  IProgress,
  IPullReport,
  IPushReport,
  IRemotes,
  ISyncReply,
  ITagReply,
  IVersion,
  MergeSide,
  MergeStrategy,
  SyncOp
} from './wire';

/** The report each remote operation's reply carries. */
export type ReportOf<O extends SyncOp> = O extends 'push'
  ? IPushReport
  : O extends 'pull'
    ? IPullReport
    : IFetchReport;

/** An error reply from the server: `message` says what was wrong and how to fix it;
 * `reply` is the whole JSON (e.g. a merge conflict's `conflicts`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly error = 'error',
    readonly reply: unknown = null
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server extension's REST API. */
export class VersionsApi {
  constructor(
    private settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** GET log: the versions of the repository holding `path`, newest first. */
  log(path: string, all = true): Promise<ILog> {
    return this.request<ILog>('log', { path, ...(all ? { all: '1' } : {}) });
  }

  /** GET version: one version in full. */
  version(path: string, rev: string): Promise<IVersion> {
    return this.request<IVersion>('version', { path, rev });
  }

  /** GET diff: what changed from `older` to `newer`. */
  diff(path: string, older: string, newer: string): Promise<IDiff> {
    return this.request<IDiff>('diff', { path, old: older, new: newer });
  }

  /** POST tag: name a version. */
  tag(path: string, name: string, rev = 'HEAD'): Promise<ITagReply> {
    return this.request<ITagReply>(
      'tag',
      {},
      { method: 'POST', body: JSON.stringify({ path, name, rev }) }
    );
  }

  /** GET remotes: the remotes, and the current branch's versions ahead / behind each. */
  remotes(path: string): Promise<IRemotes> {
    return this.request<IRemotes>('remotes', { path });
  }

  /** GET progress: the push / pull / fetch running in the repository (or run last). */
  progress(path: string): Promise<IProgress> {
    return this.request<IProgress>('progress', { path });
  }

  /** POST push | pull | fetch: run it on the server; resolves when it is done. */
  sync<O extends SyncOp>(op: O, path: string, remote: string): Promise<ISyncReply<ReportOf<O>>> {
    return this.request<ISyncReply<ReportOf<O>>>(
      op,
      {},
      { method: 'POST', body: JSON.stringify({ path, remote }) }
    );
  }

  /**
   * POST merge: merge `rev` into the current branch on the server (the kernel is left
   * alone). Conflicts reject with an ApiError whose `error` is 'MergeConflictError' and
   * whose `reply` is an IMergeConflictReply; post again with `take` / `strategy`.
   */
  merge(
    path: string,
    rev: string,
    take: Record<string, MergeSide> = {},
    strategy: Record<string, MergeStrategy> = {}
  ): Promise<IMergeReply> {
    return this.request<IMergeReply>(
      'merge',
      {},
      { method: 'POST', body: JSON.stringify({ path, rev, take, strategy }) }
    );
  }

  private async request<T>(
    endpoint: string,
    params: Record<string, string>,
    init: RequestInit = {}
  ): Promise<T> {
    const query = URLExt.objectToQueryString(params);
    const url =
      URLExt.join(this.settings.baseUrl, 'jupyter-mvc', endpoint) + query;
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (err) {
      throw new ApiError(
        0,
        `The Jupyter server did not answer (${(err as Error).message}); is it still running?`,
        'network'
      );
    }
    const text = await response.text();
    let data: unknown = {};
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      data = { message: text };
    }
    if (!response.ok) {
      const reply = data as Partial<IErrorReply>;
      throw new ApiError(
        response.status,
        reply.message || response.statusText,
        reply.error,
        data
      );
    }
    return data as T;
  }
}
