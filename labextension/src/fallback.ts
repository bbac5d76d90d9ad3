// Widgets saved in a notebook, seen without the kernel that made them (the notebook
// reopened later, or its kernel restarted): jupyterlab_widgets' renderer then shows only
// "Error displaying widget: model not found". Our widgets (timeline, curves, runs table)
// put a static rendering beside the widget in the same output (`text/html`, its root
// marked `mvc-static`: widgets/timeline.py, curves.py, runs.py). Here, in JupyterLab and
// Notebook 7 alike, the widget renderer of each notebook is wrapped: while no live view is
// attached (loading, model not found, no kernel) it shows that static rendering instead,
// through the notebook's own HTML renderer (sanitized unless the notebook is trusted), with
// the bundle's PNG where sanitizing took a figure. (An untrusted notebook renders no
// widgets at all: it shows the bundle's sanitized HTML by itself.)
import { NotebookPanel } from '@jupyterlab/notebook';

export const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
const STATIC_MIME = 'text/html';
const IMAGE_MIME = 'image/png';
const MARK = 'mvc-static';
const FALLBACK = 'jp-mvc-static-fallback';
/** The widget outputs this watches (whether or not they carry a static form). */
const WATCHED = 'jp-mvc-widget-output';
/** A live view normally attaches well within this; past it, show the static form. */
const PATIENCE_MS = 1500;

type Registry = NotebookPanel['content']['rendermime'];
type Renderer = ReturnType<Registry['createRenderer']>;
type MimeModel = Parameters<Renderer['renderModel']>[0];

const wrapped = new WeakSet<Registry>();

/** Make the widget outputs of `panel` fall back to their static rendering. */
export function staticFallback(panel: NotebookPanel): void {
  const rendermime = panel.content.rendermime;
  if (wrapped.has(rendermime)) {
    return;
  }
  wrapped.add(rendermime);
  const create = rendermime.createRenderer.bind(rendermime);
  rendermime.createRenderer = (mimeType: string): Renderer => {
    const renderer = create(mimeType);
    if (mimeType === WIDGET_MIME) {
      withFallback(renderer, rendermime);
    }
    return renderer;
  };
}

/** Whether an output bundle is one of our widgets with its static rendering. */
export function hasStatic(model: MimeModel): boolean {
  const html = model.data[STATIC_MIME];
  return WIDGET_MIME in model.data && typeof html === 'string' && html.includes(MARK);
}

/** The static rendering of `model`, in a box, and how to dispose of its renderers. */
async function staticBox(
  model: MimeModel,
  rendermime: Registry
): Promise<{ box: HTMLElement; dispose: () => void }> {
  const parts: Renderer[] = [];
  const box = document.createElement('div');
  box.className = FALLBACK;
  box.title =
    'A saved rendering: the live widget needs the kernel that made it. Run the cell again for it.';
  const html = rendermime.createRenderer(STATIC_MIME);
  parts.push(html);
  await html.renderModel(model);
  // An untrusted notebook's HTML is sanitized; where that took the figure, draw it from
  // the bundle's own PNG (images need no trust).
  if (model.data[IMAGE_MIME] && !html.node.querySelector('img')) {
    const image = rendermime.createRenderer(IMAGE_MIME);
    parts.push(image);
    await image.renderModel(model);
    box.appendChild(image.node);
  }
  box.appendChild(html.node);
  return { box, dispose: () => parts.forEach(p => p.dispose()) };
}

function withFallback(renderer: Renderer, rendermime: Registry): void {
  renderer.addClass(WATCHED);
  const render = renderer.renderModel.bind(renderer);
  let shown: { box: HTMLElement; dispose: () => void } | null = null;
  let attempt = 0;
  const live = () =>
    Array.from(renderer.node.children).some(c => !c.classList.contains(FALLBACK));
  const hide = () => {
    shown?.dispose();
    shown?.box.remove();
    shown = null;
  };
  const show = async (model: MimeModel) => {
    if (live() || renderer.isDisposed) {
      return;
    }
    hide();
    const mine = ++attempt;
    const made = await staticBox(model, rendermime);
    if (mine !== attempt || live() || renderer.isDisposed) {
      made.dispose();
      return;
    }
    shown = made;
    // The widget renderer's own text ("Loading widget...", "Error displaying widget: ...").
    renderer.node.textContent = '';
    renderer.node.appendChild(made.box);
  };
  // The widget renderer calls renderModel again itself once its manager is restored.
  renderer.renderModel = async (model: MimeModel): Promise<void> => {
    if (!hasStatic(model)) {
      return render(model);
    }
    const timer = window.setTimeout(() => void show(model), PATIENCE_MS);
    try {
      await render(model);
    } finally {
      window.clearTimeout(timer);
    }
    if (live()) {
      attempt++; // a static form still being made is not shown
      hide();
    } else {
      await show(model);
    }
  };
  renderer.disposed.connect(hide);
}
