// Requests to the server extension (<base_url>/jupyter-mvc/...). ServerConnection adds
// the auth token and the XSRF header that POSTs need.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IVersionInfo {
  id: string;
  short_id: string;
  parents: string[];
  subject: string;
  message: string;
  author: string;
  time: number;
  variables: string[];
  metrics: Record<string, number | null>;
  branches: string[];
  tags: string[];
  is_head: boolean;
  lane: number;
}

export interface ILog {
  head: string | null;
  branch: string | null;
  lanes: number;
  versions: IVersionInfo[];
}

export interface IVariable {
  name: string;
  type: string;
  size: number;
  summary_line: string;
}

export interface IVersion {
  info: IVersionInfo;
  variables: IVariable[];
  metrics: { scalars?: Record<string, number | null> };
  params: Record<string, unknown>;
}

export interface IDiff {
  old: IVersionInfo;
  new: IVersionInfo;
  variables: { name: string; status: string; old: Record<string, unknown> | null; new: Record<string, unknown> | null }[];
  params: Record<string, [unknown, unknown]>;
  metrics: Record<string, [unknown, unknown]>;
}

/** An error reply from the server: `message` says what was wrong and how to fix it. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function requestAPI<T>(
  endpoint: string,
  params: Record<string, string>,
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const query = URLExt.objectToQueryString(params);
  const url = URLExt.join(settings.baseUrl, 'jupyter-mvc', endpoint) + query;
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!response.ok) {
    throw new ApiError(response.status, data.message || response.statusText);
  }
  return data as T;
}
