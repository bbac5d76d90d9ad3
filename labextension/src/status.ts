// Status bar item: the notebook kernel's version and whether tracked variables changed
// since. It renders the VersionsModel's kernel state; it fetches nothing itself.
import { Widget } from '@lumino/widgets';

import { VersionsModel } from './model';

export class VersionStatus extends Widget {
  constructor(private model: VersionsModel) {
    super();
    this.addClass('jp-mvc-status');
    model.changed.connect(this.render, this);
    this.render();
  }

  dispose(): void {
    this.model.changed.disconnect(this.render, this);
    super.dispose();
  }

  private render(): void {
    const model = this.model;
    const state = model.kernel;
    if (!model.notebook) {
      this.show_('mvc: –', '');
      return;
    }
    switch (state.kind) {
      case 'none':
        this.show_('mvc: –', model.loading ? 'Loading…' : '');
        break;
      case 'no-versions':
        this.show_(
          'mvc: no versions',
          'Commit one from the Versions sidebar or with %mv_commit'
        );
        break;
      case 'no-kernel':
        this.show_('mvc: no kernel', 'Start a kernel to see its version');
        break;
      case 'error':
        this.show_('mvc: ?', state.message);
        break;
      case 'status': {
        const st = state.status;
        const id = st.version ? st.version.slice(0, 8) : 'none';
        const dirty = [...st.changed, ...st.new, ...st.missing];
        const branch = st.branch ? ` (${st.branch})` : '';
        const text = `mvc: ${id}${branch} · ${dirty.length ? `${dirty.length} changed` : 'clean'}`;
        this.show_(text, st.message ?? '', dirty.length > 0);
        break;
      }
    }
  }

  private show_(text: string, title: string, dirty = false): void {
    this.node.textContent = text;
    this.node.title = title;
    this.node.classList.toggle('jp-mvc-dirty', dirty);
  }
}
