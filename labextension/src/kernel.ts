// Talks to the notebook's kernel over the "jupyter_mvc" comm. What the user typed goes
// in the comm message's data; the only code ever executed is the fixed SETUP line.
import { ISessionContext } from '@jupyterlab/apputils';
import { Kernel } from '@jupyterlab/services';

const TARGET = 'jupyter_mvc';
const SETUP = '%load_ext jupyter_mvc';

export interface IKernelRequest {
  action: 'status' | 'commit' | 'checkout';
  rev?: string;
  message?: string;
  names?: string[];
  force?: boolean;
}

/** A refusal from the kernel side (e.g. a checkout that would discard changes). */
export class KernelError extends Error {
  constructor(readonly kind: string, message: string) {
    super(message);
  }
}

export class KernelBridge {
  private comms = new Map<Kernel.IKernelConnection, Promise<Kernel.IComm>>();
  private pending = new Map<number, (reply: any) => void>();
  private nextId = 0;

  /** Whether the session has a kernel we can talk to right now. */
  static hasKernel(ctx: ISessionContext): boolean {
    return !!ctx.session?.kernel;
  }

  async request(ctx: ISessionContext, data: IKernelRequest): Promise<any> {
    await ctx.ready;
    const kernel = ctx.session?.kernel;
    if (!kernel) {
      throw new KernelError('NoKernel', 'This notebook has no kernel: start one (Kernel menu) and try again.');
    }
    const comm = await this.comm(kernel);
    const id = ++this.nextId;
    const reply = new Promise<any>(resolve => this.pending.set(id, resolve));
    comm.send({ ...data, id } as any);
    const answer = await reply;
    if (!answer.ok) {
      throw new KernelError(answer.error, answer.message);
    }
    return answer.result;
  }

  private comm(kernel: Kernel.IKernelConnection): Promise<Kernel.IComm> {
    let comm = this.comms.get(kernel);
    if (!comm) {
      comm = this.open(kernel);
      this.comms.set(kernel, comm);
      comm.catch(() => this.comms.delete(kernel));
      kernel.statusChanged.connect((k, status) => {
        if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
          this.comms.delete(k); // a new kernel process has no comm and no extension yet
        }
      });
      kernel.disposed.connect(k => this.comms.delete(k));
    }
    return comm;
  }

  private async open(kernel: Kernel.IKernelConnection): Promise<Kernel.IComm> {
    const future = kernel.requestExecute({ code: SETUP, silent: true, store_history: false });
    const done = await future.done;
    if (done.content.status !== 'ok') {
      throw new KernelError(
        'Setup',
        '`%load_ext jupyter_mvc` failed in this kernel: install jupyter_mvc in the kernel\'s environment.'
      );
    }
    const comm = kernel.createComm(TARGET);
    comm.onMsg = msg => {
      const data = msg.content.data as any;
      const resolve = this.pending.get(data?.id);
      if (resolve) {
        this.pending.delete(data.id);
        resolve(data);
      }
    };
    comm.onClose = () => {
      this.comms.delete(kernel);
    };
    await comm.open({}).done;
    return comm;
  }
}
