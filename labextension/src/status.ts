// Status bar item: the notebook kernel's version and whether tracked variables changed
// since (asked of the kernel over the comm, "status" action).
import { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { ILog, requestAPI } from './api';
import { KernelBridge } from './kernel';

export class VersionStatus extends Widget {
  private notebook: NotebookPanel | null = null;

  constructor(private bridge: KernelBridge) {
    super();
    this.addClass('jp-mvc-status');
    this.node.textContent = 'mvc: –';
  }

  setNotebook(panel: NotebookPanel | null): void {
    this.notebook = panel;
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const panel = this.notebook;
    if (!panel) {
      this.show_('mvc: –', '');
      return;
    }
    try {
      await panel.context.ready;
      // Only a notebook whose repository has versions gets the extension loaded into
      // its kernel: opening any notebook should not change its kernel.
      const log = await requestAPI<ILog>('log', { path: panel.context.path, limit: '1' });
      if (!log.versions.length || !KernelBridge.hasKernel(panel.sessionContext)) {
        this.show_('mvc: no versions', 'Commit one from the Versions sidebar or with %mv_commit');
        return;
      }
      const st = await this.bridge.request(panel.sessionContext, { action: 'status' });
      const id = st.version ? String(st.version).slice(0, 8) : 'none';
      const dirty = [...st.changed, ...st.new, ...st.missing];
      const text = `mvc: ${id}${st.branch ? ` (${st.branch})` : ''} · ${dirty.length ? `${dirty.length} changed` : 'clean'}`;
      this.show_(text, st.message ?? '', dirty.length > 0);
    } catch (err) {
      this.show_('mvc: ?', (err as Error).message);
    }
  }

  private show_(text: string, title: string, dirty = false): void {
    this.node.textContent = text;
    this.node.title = title;
    this.node.classList.toggle('jp-mvc-dirty', dirty);
  }
}
