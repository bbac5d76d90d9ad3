"""Ratios against the floor and the alternatives, the issue's targets, and the table."""

from __future__ import annotations

MiB = 1 << 20

# (name, ours, reference, what it says)
RATIOS = [
    ("commit_first / write+fsync", "ours.commit_first", "floor.write_fsync"),
    ("commit_first / pickle.dump", "ours.commit_first", "alt.pickle_dump"),
    ("commit_first / torch.save", "ours.commit_first", "alt.torch_save"),
    ("commit_first / git add+commit", "ours.commit_first", "alt.git_add_commit"),
    ("recommit_unchanged / write+fsync", "ours.recommit_unchanged", "floor.write_fsync"),
    ("recommit_unchanged / blake3 threads", "ours.recommit_unchanged", "floor.blake3_threads"),
    ("recommit_1% / write+fsync", "ours.recommit_edit_1pct", "floor.write_fsync"),
    ("checkout_cold / read_cold", "ours.checkout_cold", "floor.read_cold"),
    ("checkout_warm / read_warm", "ours.checkout_warm", "floor.read_warm"),
    ("checkout_cold / cold read into new memory", "ours.checkout_cold", "floor.read_cold_fresh_memory"),
    ("checkout_warm / warm read into new memory", "ours.checkout_warm", "floor.read_warm_fresh_memory"),
    ("checkout_cold / torch.load cold", "ours.checkout_cold", "alt.torch_load_cold"),
    ("checkout_cold / pickle.load cold", "ours.checkout_cold", "alt.pickle_load_cold"),
    ("checkout_warm / torch.load warm", "ours.checkout_warm", "alt.torch_load_warm"),
    ("checkout_warm / pickle.load warm", "ours.checkout_warm", "alt.pickle_load_warm"),
    # safetensors' load_file maps the file (pages read on touch): it compares with a lazy checkout
    ("lazy checkout cold / safetensors load_file cold", "ours.checkout_lazy_cold", "alt.safetensors_load_cold"),
    ("lazy checkout warm / safetensors load_file warm", "ours.checkout_lazy_warm", "alt.safetensors_load_warm"),
    (
        "lazy checkout + touch all cold / torch.load mmap + touch",
        "ours.checkout_lazy_cold_touch_all",
        "alt.torch_load_mmap_cold_touch_all",
    ),
    ("lazy checkout warm / safetensors safe_open warm", "ours.checkout_lazy_warm", "alt.safetensors_open_warm"),
    ("%mv_status / %mv_status --verify", "kernel.status", "kernel.status_verify"),
    ("mvc log (process) / git log, 1,000 versions", "history.cli_log_1000", "history.git_log_1000"),
    ("frame commit / Arrow IPC write+fsync", "frame.commit_first", "frame.arrow_write_fsync"),
    ("frame commit / pickle.dumps", "frame.commit_first", "frame.pickle_dumps"),
    ("frame load warm / Arrow read + to_pandas", "frame.load_warm", "frame.arrow_read"),
    ("chain tip cold / full version cold", "chain.tip_cold", "chain.full_cold"),
    ("chain tip warm / full version warm", "chain.tip_warm", "chain.full_warm"),
    ("chain deepest old cold / full version cold", "chain.deepest_old_cold", "chain.full_cold"),
    ("chain deepest old warm / full version warm", "chain.deepest_old_warm", "chain.full_warm"),
]


def _median(m: dict, key: str) -> float | None:
    entry = m.get(key) or {}
    return entry.get("median_s")


def ratios(m: dict) -> dict[str, float]:
    out = {}
    for label, a, b in RATIOS:
        x, y = _median(m, a), _median(m, b)
        if x is not None and y:
            out[label] = x / y
    return out


def targets(m: dict, model_bytes: int, judged: bool = True) -> list[dict]:
    """The issue's targets; `judged=False` (smoke sizes) reports values without a verdict,
    since the targets are stated for a 1 GiB model and 10 000 versions."""
    r = ratios(m)
    rows = []

    def add(label, value, limit, unit=""):
        if value is None:
            rows.append({"target": label, "value": None, "limit": limit, "met": None, "unit": unit})
        else:
            rows.append(
                {
                    "target": label,
                    "value": value,
                    "limit": limit,
                    "met": value <= limit if judged else None,
                    "unit": unit,
                }
            )

    add("first commit / write+fsync floor", r.get("commit_first / write+fsync"), 1.15, "x")
    add("recommit after 1% edit / write+fsync floor", r.get("recommit_1% / write+fsync"), 0.5, "x")
    added = (m.get("ours.recommit_edit_1pct") or {}).get("bytes_added")
    add("bytes added by the 1% recommit", None if added is None else added / MiB, 16 * model_bytes / (1 << 30), "MiB")
    add("checkout cold / cold read floor", r.get("checkout_cold / read_cold"), 1.5, "x")
    add("checkout cold / cold read into new memory", r.get("checkout_cold / cold read into new memory"), 1.2, "x")
    add("log of the history", _median(m, "history.log"), 0.3, "s")
    add("log of 100,000 versions", _median(m, "history.log_scale"), 0.5, "s")
    load = _median(m, "startup.load_ext")
    add("%load_ext jupyter_mvc", load, 0.3, "s")
    per_cell = (m.get("kernel.cell_autocommit") or {}).get("added_by_autocommit_s")
    add("per cell, autocommit on, model tracked, untouched", per_cell, 0.010, "s")
    add("lazy checkout before first use (cold)", _median(m, "ours.checkout_lazy_cold"), 0.050, "s")
    add("`mvc log` process, 1,000 versions", _median(m, "history.cli_log_1000"), 0.1, "s")
    add("checkout cold / torch.load cold", r.get("checkout_cold / torch.load cold"), 1.0, "x")
    add("frame commit / Arrow IPC write+fsync", r.get("frame commit / Arrow IPC write+fsync"), 1.5, "x")
    add("frame load / Arrow read + to_pandas", r.get("frame load warm / Arrow read + to_pandas"), 1.5, "x")
    add("frame recommit after a 10-row edit", _median(m, "frame.recommit_10_rows"), 0.3, "s")
    # Newest is fastest: cold where the page cache can be dropped (what a fresh kernel sees), else warm.
    tip = r.get("chain tip cold / full version cold", r.get("chain tip warm / full version warm"))
    add("tip of a 20-commit 1% chain / full version", tip, 1.1, "x")
    peaks = []
    for key, field in (
        ("ours.commit_first", "peak_extra_bytes"),
        ("ours.recommit_edit_1pct", "peak_extra_bytes"),
        ("ours.checkout_cold", "peak_beyond_result_bytes"),
        ("ours.checkout_warm", "peak_beyond_result_bytes"),
    ):
        v = (m.get(key) or {}).get(field)
        if v is not None:
            peaks.append(v)
    add("peak extra memory (commit/checkout) / model", max(peaks) / model_bytes if peaks else None, 0.10, "x")
    return rows


def _fmt_bytes(n) -> str:
    if n is None:
        return "-"
    return f"{n / MiB:,.1f} MiB" if abs(n) >= MiB / 10 else f"{n / 1024:,.1f} KiB"


def table(result: dict) -> str:
    m = result["measurements"]
    lines = [
        f"jupyter_mvc benchmark ({result['mode']}): model {_fmt_bytes(result['config']['model_bytes'])} "
        f"({result['config']['model_kind']}), {result['machine']['cores']} cores, "
        f"page cache drop: {'yes' if result['machine']['drop_caches'] else 'NO (warm only)'}, "
        f"load average {result['machine'].get('load_average_at_start')} -> "
        f"{result['machine'].get('load_average_at_end')}",
        "",
    ]
    lines.append(f"{'measurement':34} {'median':>10} {'n':>3} {'peak extra':>12} {'bytes added':>12}  note")
    for name, e in m.items():
        if "skipped" in e:
            lines.append(f"{name:34} {'skipped':>10}      {e['skipped']}")
            continue
        if "median_s" not in e:
            note = ", ".join(f"{k}={_fmt_bytes(v) if 'bytes' in k else v}" for k, v in e.items())
            lines.append(f"{name:34} {'':>10}      {note}")
            continue
        peak = e.get("peak_beyond_result_bytes", e.get("peak_extra_bytes"))
        note = []
        if "peak_beyond_result_bytes" in e:
            note.append("peak beyond the loaded result")
        if "file_bytes" in e:
            note.append(f"file {_fmt_bytes(e['file_bytes'])}")
        if "output_lines" in e:
            note.append(f"{e['output_lines']} lines")
        if "chunks" in e:
            note.append(f"{e['chunks']:,} chunks")
        if "versions" in e:
            note.append(f"{e['versions']} versions")
        lines.append(
            f"{name:34} {e['median_s']:>9.3f}s {e['n']:>3} {_fmt_bytes(peak):>12} "
            f"{_fmt_bytes(e.get('bytes_added')):>12}  {'; '.join(note)}"
        )
    lines += ["", "ratios (median / median, same run):"]
    for label, v in result["ratios"].items():
        lines.append(f"  {label:40} {v:7.2f}x")
    lines += ["", "targets:"]
    for t in result["targets"]:
        state = (
            ("n/a" if result["mode"] == "full" else "not judged at smoke sizes")
            if t["met"] is None
            else ("met" if t["met"] else "MISSED")
        )
        value = "-" if t["value"] is None else f"{t['value']:.3f}{t['unit']}"
        lines.append(f"  {t['target']:46} {value:>12}  limit {t['limit']:.3g}{t['unit']:4} {state}")
    return "\n".join(lines)
