// The runs table: one row per version, a column per metric and param. Plain DOM, no
// imports (anywidget ships its loader inside the wheel: works offline). Python builds the
// table (present/runs.py); this file draws it, sorts on a header click at once (best
// first for a metric: its `goal` says which way is better; a param ascending; a second
// click flips) and tells Python through `sort` / `descending`, which re-sorts `rows`.

function numberOrNull(v) {
  return typeof v === "number" && !Number.isNaN(v) ? v : null;
}

function compare(a, b) {
  // numbers by value, then text; versions without a value are placed by the caller
  const na = numberOrNull(a), nb = numberOrNull(b);
  if (na !== null && nb !== null) return na - nb;
  if (na !== null) return -1;
  if (nb !== null) return 1;
  return String(a).localeCompare(String(b));
}

function sortedRows(rows, sort, descending) {
  if (!sort) return rows.slice();
  const having = rows.filter((r) => r.values[sort] !== undefined && r.values[sort] !== null);
  const missing = rows.filter((r) => r.values[sort] === undefined || r.values[sort] === null);
  having.sort((a, b) => (descending ? -1 : 1) * compare(a.values[sort], b.values[sort]));
  return having.concat(missing);
}

function draw(model, el) {
  const columns = model.get("columns"), best = model.get("best"), error = model.get("error");
  const sort = model.get("sort"), descending = model.get("descending"), all = model.get("all_columns");
  const rows = sortedRows(model.get("rows"), sort, descending);
  el.replaceChildren();
  const box = document.createElement("div");
  box.className = "mvc-runs";
  if (error) {
    const err = document.createElement("div");
    err.className = "mvc-error";
    err.textContent = error;
    box.appendChild(err);
  }
  const shown = columns.filter((c) => all || !c.constant || c.name === sort);
  const hidden = columns.filter((c) => !shown.includes(c));
  const table = document.createElement("table");
  const head = document.createElement("tr");
  for (const label of ["version", "message"]) {
    const th = document.createElement("th");
    th.textContent = label;
    th.className = "mvc-left";
    head.appendChild(th);
  }
  for (const c of shown) {
    const th = document.createElement("th");
    th.textContent = c.header + (c.name === sort ? (descending ? " ▼" : " ▲") : "");
    th.className = "mvc-sortable" + (c.kind === "param" ? " mvc-param" : "");
    th.title = c.kind === "param"
      ? "param · click to sort"
      : (c.goal === "min" ? "lower is better" : "higher is better") + " · click to sort, best first";
    th.addEventListener("click", () => {
      const desc = c.name === sort ? !descending : c.goal === "max";
      model.set("sort", c.name);
      model.set("descending", desc);
      model.save_changes();
    });
    head.appendChild(th);
  }
  table.appendChild(head);
  for (const r of rows) {
    const tr = document.createElement("tr");
    if (r.head) tr.className = "mvc-head-row";
    const id = document.createElement("td");
    id.className = "mvc-left mvc-version";
    id.textContent = r.short + (r.marks.length ? ` (${r.marks.join(", ")})` : "");
    tr.appendChild(id);
    const subject = document.createElement("td");
    subject.className = "mvc-left mvc-subject";
    subject.textContent = r.subject;
    subject.title = r.subject;
    tr.appendChild(subject);
    for (const c of shown) {
      const td = document.createElement("td");
      const isBest = (best[c.name] || []).includes(r.id);
      const text = r.text[c.name];
      td.textContent = text === undefined ? "" : (isBest ? "★ " : "") + text;
      if (isBest) td.className = "mvc-best";
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  box.appendChild(table);
  const foot = document.createElement("label");
  foot.className = "mvc-foot";
  const toggle = document.createElement("input");
  toggle.type = "checkbox";
  toggle.checked = all;
  toggle.addEventListener("change", () => {
    model.set("all_columns", toggle.checked);
    model.save_changes();
  });
  foot.appendChild(toggle);
  const n = columns.filter((c) => c.constant).length;
  foot.appendChild(document.createTextNode(
    ` all columns (${n} the same in every version${!all && hidden.length ? ": " + hidden.map((c) => c.name).join(", ") : ""})`
  ));
  box.appendChild(foot);
  if (!rows.length) {
    const empty = document.createElement("div");
    empty.textContent = "No versions yet: %mv_commit -m 'message' makes the first.";
    box.appendChild(empty);
  }
  el.appendChild(box);
}

function render({ model, el }) {
  const redraw = () => draw(model, el);
  const names = ["columns", "rows", "best", "sort", "descending", "all_columns", "error"];
  redraw();
  for (const name of names) model.on(`change:${name}`, redraw);
  return () => { for (const name of names) model.off(`change:${name}`, redraw); };
}

export default { render };
