// jupyter_mvc in JupyterLab: the Versions sidebar and the status bar item of the active
// notebook, refreshed when the notebook changes and after each cell runs.
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';

import { VersionsApi } from './api';
import { staticFallback } from './fallback';
import { KernelBridge } from './kernel';
import { VersionsModel } from './model';
import { VersionsPanel } from './sidebar';
import { VersionStatus } from './status';

const versionsIcon = new LabIcon({
  name: 'jupyter-mvc:versions',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">' +
    '<g class="jp-icon3" fill="#616161"><circle cx="4" cy="3" r="2"/><circle cx="4" cy="13" r="2"/>' +
    '<circle cx="12" cy="7" r="2"/><rect x="3.25" y="3" width="1.5" height="10"/>' +
    '<path d="M4.75 9.5 C 8 9.5 11.25 9 11.25 7 h1.5 c0 3-4 4-8 4z"/></g></svg>'
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mvc:plugin',
  description: 'Versions sidebar and status item for jupyter_mvc',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    statusBar: IStatusBar | null
  ) => {
    const model = new VersionsModel(
      new VersionsApi(app.serviceManager.serverSettings),
      new KernelBridge()
    );
    const panel = new VersionsPanel(model);
    panel.title.icon = versionsIcon;
    app.shell.add(panel, 'right', { rank: 600 });
    if (statusBar) {
      statusBar.registerStatusItem('jupyter-mvc:status', {
        item: new VersionStatus(model),
        align: 'left',
        rank: 5,
        isActive: () => !!tracker.currentWidget,
        activeStateChanged: model.changed
      });
    }
    // Saved widgets whose kernel is gone show their static rendering (fallback.ts).
    tracker.forEach(staticFallback);
    tracker.widgetAdded.connect((_, nb) => staticFallback(nb));
    tracker.widgetAdded.connect((_, nb) => void nb.context.ready.then(() => model.watch(nb)));
    tracker.forEach(nb => void nb.context.ready.then(() => model.watch(nb)));
    // Before a cell runs, the kernel gets the notebook as it is on screen (for commits).
    NotebookActions.executionScheduled.connect((_, { notebook }) => {
      const nb = tracker.find(p => p.content === notebook);
      if (nb) {
        model.liveNotebook(nb);
      }
    });
    tracker.currentChanged.connect((_, nb) => model.setNotebook(nb));
    model.setNotebook(tracker.currentWidget);

    // A cell may have run %mv_commit / %mv_checkout or changed a tracked variable.
    let timer = 0;
    NotebookActions.executed.connect((_, { notebook }) => {
      if (tracker.currentWidget?.content !== notebook) {
        return;
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void model.refresh(), 300);
    });

    app.commands.addCommand('jupyter-mvc:refresh', {
      label: 'Refresh notebook versions',
      execute: () => model.refresh()
    });
  }
};

export default plugin;
