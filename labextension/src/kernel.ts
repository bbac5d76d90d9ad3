// Talks to the notebook's kernel over the "jupyter_mvc" comm. What the user typed goes
// in the comm message's data; the only code ever executed is the fixed SETUP line.
// A request whose kernel restarts, dies or closes the comm before answering is rejected
// with a KernelError: no caller waits forever.
import { ISessionContext } from '@jupyterlab/apputils';
import { Kernel } from '@jupyterlab/services';

import {
  CommAction,
  CommReply,
  ICommProgress,
  ICommRequest,
  IStepProgress,
  ResultOf
} from './wire';

const TARGET = 'jupyter_mvc';
const SETUP = '%load_ext jupyter_mvc';

/** The request without its id (the bridge numbers requests). */
export type KernelRequest<A extends CommAction = CommAction> = Omit<
  ICommRequest,
  'id' | 'action'
> & { action: A };

/**
 * A refusal or failure on the kernel side. `error` is the Python exception class name
 * for refusals sent by the kernel (e.g. 'DirtyCheckoutError', whose `names` lists the
 * variables a checkout would overwrite), or one of the bridge's own: 'NoKernel',
 * 'Setup', 'KernelRestarted', 'CommClosed'.
 */
export class KernelError extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly names: string[] = []
  ) {
    super(message);
    this.name = 'KernelError';
  }
}

interface IPending {
  kernel: Kernel.IKernelConnection;
  comm: Kernel.IComm;
  resolve: (reply: CommReply) => void;
  reject: (err: KernelError) => void;
  onProgress?: (progress: IStepProgress) => void;
}

const RESTARTED =
  'The kernel restarted before jupyter_mvc answered; try again.';
const DIED = 'The kernel stopped before jupyter_mvc answered; start it and try again.';
const CLOSED = 'The jupyter_mvc comm closed before it answered; try again.';

export class KernelBridge {
  private comms = new Map<Kernel.IKernelConnection, Promise<Kernel.IComm>>();
  private live = new Map<Kernel.IKernelConnection, Kernel.IComm>();
  private pending = new Map<number, IPending>();
  private nextId = 0;

  /** Whether the session has a kernel we can talk to right now. */
  static hasKernel(ctx: ISessionContext): boolean {
    return !!ctx.session?.kernel;
  }

  /**
   * Send without waiting for the answer, only on a comm that is already open (opening one
   * runs `%load_ext` in the kernel, which a mere cell run must not do). Sent before a
   * cell's execute request, it reaches the kernel first. False when no comm is open.
   */
  sendIfOpen(ctx: ISessionContext, data: KernelRequest): boolean {
    const kernel = ctx.session?.kernel;
    const comm = kernel ? this.live.get(kernel) : undefined;
    if (!comm || comm.isDisposed) {
      return false;
    }
    const request: ICommRequest = { ...data, id: -1 };
    comm.send(request as never);
    return true;
  }

  /**
   * Send one request; resolves to its result, rejects with a KernelError. With
   * `onProgress`, the kernel is asked for progress messages (commit, checkout), each
   * handed to it before the reply arrives.
   */
  async request<A extends CommAction>(
    ctx: ISessionContext,
    data: KernelRequest<A>,
    onProgress?: (progress: IStepProgress) => void
  ): Promise<ResultOf<A>> {
    await ctx.ready;
    const kernel = ctx.session?.kernel;
    if (!kernel) {
      throw new KernelError(
        'NoKernel',
        'This notebook has no kernel: start one (Kernel menu) and try again.'
      );
    }
    const comm = await this.comm(kernel);
    const id = ++this.nextId;
    const reply = new Promise<CommReply>((resolve, reject) =>
      this.pending.set(id, { kernel, comm, resolve, reject, onProgress })
    );
    if (comm.isDisposed) {
      this.closed(kernel, comm);
    } else {
      const message: ICommRequest = { ...data, id, ...(onProgress ? { progress: true } : {}) };
      try {
        comm.send(message as unknown as Record<string, never>);
      } catch {
        this.closed(kernel, comm);
      }
    }
    const answer = await reply;
    if (!answer.ok) {
      throw new KernelError(answer.error, answer.message, answer.names ?? []);
    }
    return answer.result as ResultOf<A>;
  }

  /** Reject every request waiting on `kernel`, and forget its comm. */
  private fail(
    kernel: Kernel.IKernelConnection,
    message: string,
    error = 'KernelRestarted'
  ): void {
    this.comms.delete(kernel);
    this.live.delete(kernel);
    this.reject(p => p.kernel === kernel, error, message);
  }

  /** `comm` closed: reject the requests sent on it; the next request opens a new one. */
  private closed(kernel: Kernel.IKernelConnection, comm: Kernel.IComm): void {
    if (this.live.get(kernel) === comm) {
      this.live.delete(kernel);
      this.comms.delete(kernel);
    }
    this.reject(p => p.comm === comm, 'CommClosed', CLOSED);
  }

  private reject(
    which: (p: IPending) => boolean,
    error: string,
    message: string
  ): void {
    for (const [id, p] of [...this.pending]) {
      if (which(p)) {
        this.pending.delete(id);
        p.reject(new KernelError(error, message));
      }
    }
  }

  private onStatus(
    kernel: Kernel.IKernelConnection,
    status: Kernel.Status
  ): void {
    if (status === 'restarting' || status === 'autorestarting') {
      // A new kernel process has no comm and no extension yet.
      this.fail(kernel, RESTARTED);
    } else if (status === 'dead') {
      this.fail(kernel, DIED);
    }
  }

  private onDisposed(kernel: Kernel.IKernelConnection): void {
    this.fail(kernel, RESTARTED);
    kernel.statusChanged.disconnect(this.onStatus, this);
    kernel.disposed.disconnect(this.onDisposed, this);
  }

  private comm(kernel: Kernel.IKernelConnection): Promise<Kernel.IComm> {
    let comm = this.comms.get(kernel);
    if (!comm) {
      comm = this.open(kernel);
      this.comms.set(kernel, comm);
      const opening = comm;
      comm.catch(() => {
        if (this.comms.get(kernel) === opening) {
          this.comms.delete(kernel);
        }
      });
      // Lumino connects a (slot, thisArg) pair once, however often we get here.
      kernel.statusChanged.connect(this.onStatus, this);
      kernel.disposed.connect(this.onDisposed, this);
    }
    return comm;
  }

  private async open(kernel: Kernel.IKernelConnection): Promise<Kernel.IComm> {
    let ok = false;
    try {
      const future = kernel.requestExecute({
        code: SETUP,
        silent: true,
        store_history: false
      });
      const done = await future.done;
      ok = done.content.status === 'ok';
    } catch {
      // The future is cancelled when the kernel restarts or dies while it runs.
      throw new KernelError('KernelRestarted', RESTARTED);
    }
    if (!ok) {
      throw new KernelError(
        'Setup',
        "`%load_ext jupyter_mvc` failed in this kernel: install jupyter_mvc in the kernel's environment."
      );
    }
    const comm = kernel.createComm(TARGET);
    comm.onMsg = msg => {
      const data = msg.content.data as unknown as CommReply | ICommProgress;
      const p = typeof data?.id === 'number' ? this.pending.get(data.id) : undefined;
      if (p && 'progress' in data) {
        p.onProgress?.(data.progress); // not the reply: keep waiting
      } else if (p) {
        this.pending.delete(data.id);
        p.resolve(data as CommReply);
      }
    };
    comm.onClose = () => this.closed(kernel, comm);
    try {
      await comm.open({}).done;
    } catch {
      throw new KernelError('KernelRestarted', RESTARTED);
    }
    this.live.set(kernel, comm);
    return comm;
  }
}
