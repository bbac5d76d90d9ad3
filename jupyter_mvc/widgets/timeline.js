// The version graph of one page of history: lanes and edges as SVG, one row per version.
// Plain DOM/SVG, no imports: anywidget ships its loader inside the wheel, so this works
// offline in JupyterLab, Notebook 7 and VS Code. Python does all layout (timeline_data.py);
// this file only draws it and reports clicks through the `selected` / `compare` traits.
const ROW = 24, LANE = 14, PAD = 10, R = 4.5;
const COLORS = ["#1976d2", "#e65100", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#6d4c41", "#546e7a"];
const SVG = "http://www.w3.org/2000/svg";

function color(lane) { return COLORS[lane % COLORS.length]; }
function x(lane) { return PAD + lane * LANE; }
function y(row) { return row * ROW + ROW / 2; }

function svgEl(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function chip(text, cls, bg) {
  const span = document.createElement("span");
  span.className = "mvc-chip " + cls;
  span.textContent = text;
  span.title = text;
  if (bg) span.style.background = bg;
  return span;
}

// A tag's mark, drawn: an emoji (🏷) is an empty box where no emoji font is installed.
function tagIcon() {
  const icon = svgEl("svg", { width: 10, height: 10, viewBox: "0 0 16 16", class: "mvc-tag-icon", "aria-hidden": "true" });
  icon.appendChild(svgEl("path", { d: "M1 1h6.5L15 8.5 8.5 15 1 7.5z", fill: "currentColor" }));
  icon.appendChild(svgEl("circle", { cx: 4.5, cy: 4.5, r: 1.5, fill: "#fff" }));
  return icon;
}

function draw(model, el) {
  const rows = model.get("rows"), edges = model.get("edges"), lanes = Math.max(1, model.get("lanes"));
  const selected = model.get("selected"), compare = model.get("compare");
  const width = PAD * 2 + (lanes - 1) * LANE, height = Math.max(rows.length, 1) * ROW;
  el.replaceChildren();
  const box = document.createElement("div");
  box.className = "mvc-timeline";
  box.style.height = height + "px";
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
  for (const e of edges) {
    const d = e.points.map((p, i) => `${i ? "L" : "M"}${x(p[0])},${y(p[1])}`).join(" ");
    svg.appendChild(svgEl("path", { d, fill: "none", stroke: color(e.lane), "stroke-width": 2 }));
  }
  for (const r of rows) {
    const attrs = { cx: x(r.lane), cy: y(r.row), r: R, fill: color(r.lane), stroke: color(r.lane), "stroke-width": 2 };
    if (r.head) Object.assign(attrs, { fill: "#fff", r: R + 1.5 });
    svg.appendChild(svgEl("circle", attrs));
  }
  box.appendChild(svg);
  for (const r of rows) {
    const row = document.createElement("div");
    row.className = "mvc-row" + (r.id === selected ? " mvc-selected" : "") + (r.id === compare ? " mvc-compare" : "");
    row.style.paddingLeft = width + 4 + "px";
    row.tabIndex = 0;
    row.dataset.id = r.id;
    row.title = `${r.short} · ${r.age}\nclick: details · shift-click: compare with the selected version`;
    const id = document.createElement("span");
    id.className = "mvc-id";
    id.textContent = r.short;
    row.appendChild(id);
    if (r.head) row.appendChild(chip("HEAD", "mvc-head"));
    for (const b of r.branches) row.appendChild(chip(b, "mvc-branch", color(r.lane)));
    for (const t of r.tags) {
      const tag = chip(t, "mvc-tag");
      tag.title = "tag " + t;
      tag.prepend(tagIcon());
      row.appendChild(tag);
    }
    // The message comes first when room is short: metrics shrink before it, and what does
    // not fit is elided, whole in the tooltip.
    const subject = document.createElement("span");
    subject.className = "mvc-subject";
    subject.textContent = r.subject;
    subject.title = r.subject;
    row.appendChild(subject);
    const age = document.createElement("span");
    age.className = "mvc-age";
    age.textContent = r.age;
    row.appendChild(age);
    const metrics = document.createElement("span");
    metrics.className = "mvc-metrics";
    // ★: the best value of that metric among the loaded versions (lower for losses, higher for
    // accuracies, or the repository's metric goal), decided in Python (timeline_data.best_values).
    const best = r.best || [];
    metrics.textContent = Object.entries(r.metrics).map(([k, v]) => `${k}=${v}${best.includes(k) ? "★" : ""}`).join(" ");
    metrics.title = metrics.textContent;
    row.appendChild(metrics);
    const pick = (ev) => {
      model.set(ev.shiftKey ? "compare" : "selected", r.id);
      model.save_changes();
    };
    row.addEventListener("click", pick);
    row.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(ev); } });
    box.appendChild(row);
  }
  el.appendChild(box);
  if (!rows.length) {
    const empty = document.createElement("div");
    empty.className = "mvc-more";
    empty.textContent = "No versions yet: %mv_commit -m 'message' makes the first.";
    el.appendChild(empty);
  }
}

function render({ model, el }) {
  const redraw = () => draw(model, el);
  redraw();
  for (const name of ["rows", "edges", "lanes", "selected", "compare"]) model.on(`change:${name}`, redraw);
  return () => { for (const name of ["rows", "edges", "lanes", "selected", "compare"]) model.off(`change:${name}`, redraw); };
}

export default { render };
