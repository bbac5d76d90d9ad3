"""`mvc`: the version store from a terminal or CI.

    mvc log [REV] [-n N] [--all]     mvc show REV      mvc diff A [B]
    mvc export REV NAME -o FILE      mvc fsck          mvc gc [--grace SECONDS]
    mvc branch [NAME [REV]] [-d NAME] mvc tag [NAME [REV]] [-d NAME]
    mvc trust MODULE.NAME
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

from .errors import MvcError
from .objects import summary_line


def _age(ts: int) -> str:
    secs = max(0, int(time.time()) - ts)
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= n:
            return f"{secs // n}{unit} ago"
    return f"{secs}s ago"


def format_log_line(v) -> str:
    refs = [("HEAD -> " if v.is_head and i == 0 else "") + b for i, b in enumerate(v.branches)]
    refs += [f"tag: {t}" for t in v.tags]
    if v.is_head and not v.branches:
        refs.insert(0, "HEAD")
    deco = f" ({', '.join(refs)})" if refs else ""
    metrics = " ".join(f"{k}={_fmt(val)}" for k, val in list(v.metrics.items())[:4])
    return f"{v.short_id}{deco} {_age(v.time)} {v.subject}" + (f"  [{metrics}]" if metrics else "")


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _cmd_log(repo, args) -> None:
    for v in repo.log(args.rev, limit=args.n, all=args.all):
        print(format_log_line(v))


def _cmd_show(repo, args) -> None:
    version = repo.show(args.rev)
    info = version.info
    print(f"version {info.id}\nauthor  {info.author}\ndate    {time.ctime(info.time)}\n")
    print("    " + info.message.replace("\n", "\n    ") + "\n")
    print("variables:")
    for e in version.manifest.variables.values():
        print(f"  {e.name:<16} {e.type:<40} {e.size:>12} B  {summary_line({k: v for k, v in e.summary.items() if k != 'repr'})}")
    for title, d in (("params", version.params), ("metrics", version.metrics.get("scalars", {}))):
        if d:
            print(f"{title}:")
            for k, v in d.items():
                print(f"  {k} = {v}")
    series = version.metrics.get("series", {})
    if series:
        print("series: " + ", ".join(f"{k} ({len(v)} points)" for k, v in series.items()))
    print("files: " + ", ".join(version.files))


def print_diff(d) -> None:
    print(f"diff {d.old.short_id} -> {d.new.short_id}")
    for change in d.changed():
        mark = {"added": "+", "removed": "-", "changed": "~"}[change.status]
        s = change.new or change.old or {}
        print(f"{mark} {change.name}: {summary_line({k: v for k, v in s.items() if k != 'repr'})}")
        for t in change.tensors:
            if t.changed is None:
                print(f"    {t.path or change.name}: shape {t.old_shape} -> {t.new_shape}")
            else:
                delta = f", max |delta| {t.max_abs_delta:.6g}" if t.max_abs_delta is not None else ""
                print(f"    {t.path or change.name}: {t.changed}/{t.total} values changed{delta}")
    if not d.changed():
        print("  (no variable changed)")
    for title, values in (("params", d.params), ("metrics", d.metrics)):
        for k, (a, b) in values.items():
            print(f"  {title[:-1]} {k}: {a} -> {b}")


def _cmd_diff(repo, args) -> None:
    print_diff(repo.diff(args.old, args.new))


def _cmd_export(repo, args) -> None:
    from .export import export

    obj = repo.load(args.rev, args.name, trust=args.trust)
    path = export(obj, args.name, args.output)
    print(f"wrote {args.name} of {repo.resolve(args.rev)[:8]} to {path}")


def _cmd_fsck(repo, args) -> int:
    report = repo.fsck()
    for p in report.problems:
        print(f"error: {p}")
    print(f"checked {report.versions} versions, {report.objects} objects: "
          + ("ok" if report.ok else f"{len(report.problems)} problems"))
    return 0 if report.ok else 1


def _cmd_gc(repo, args) -> None:
    r = repo.gc(grace_seconds=args.grace)
    print(f"removed {r.objects_removed} objects ({r.bytes_freed} bytes) and {r.temp_files_removed} "
          f"temp files; kept {r.objects_kept} reachable objects")


def _refs_cmd(kind: str):
    def run(repo, args) -> None:
        listing = repo.branches() if kind == "branch" else repo.tags()
        if args.delete:
            (repo.delete_branch if kind == "branch" else repo.delete_tag)(args.delete)
            print(f"deleted {kind} {args.delete}")
        elif args.name:
            create = repo.create_branch if kind == "branch" else repo.create_tag
            print(f"created {kind} {args.name} at {create(args.name, args.rev)[:8]}")
        else:
            current = repo.current_branch() if kind == "branch" else None
            for name, sha in sorted(listing.items()):
                print(f"{'*' if name == current else ' '} {name:<20} {sha[:8]}")
    return run


def _cmd_trust(repo, args) -> None:
    repo.trust(args.name)
    print(f"{args.name} may now load from this repository's versions")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mvc", description="jupyter_mvc: versions of notebook state")
    p.add_argument("-C", dest="path", default=".", help="run as if started in this folder")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("log", help="list versions")
    s.add_argument("rev", nargs="?")
    s.add_argument("-n", type=int, default=None, help="at most N versions")
    s.add_argument("--all", action="store_true", help="versions of every branch and tag")
    s.set_defaults(run=_cmd_log)
    s = sub.add_parser("show", help="one version: variables, params, metrics, files")
    s.add_argument("rev", nargs="?", default="HEAD")
    s.set_defaults(run=_cmd_show)
    s = sub.add_parser("diff", help="what changed between two versions")
    s.add_argument("old")
    s.add_argument("new", nargs="?", default="HEAD")
    s.set_defaults(run=_cmd_diff)
    s = sub.add_parser("export", help="write a variable to .npy/.safetensors/.pkl")
    s.add_argument("rev")
    s.add_argument("name")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--trust", action="store_true", help="load classes off the safe list (runs code)")
    s.set_defaults(run=_cmd_export)
    sub.add_parser("fsck", help="verify every reachable object").set_defaults(run=_cmd_fsck)
    s = sub.add_parser("gc", help="remove objects no version reaches")
    s.add_argument("--grace", type=float, default=3600.0, help="keep unreachable objects younger than this (s)")
    s.set_defaults(run=_cmd_gc)
    for kind in ("branch", "tag"):
        s = sub.add_parser(kind, help=f"list, create or delete {kind}es" if kind == "branch" else "list, create or delete tags")
        s.add_argument("name", nargs="?")
        s.add_argument("rev", nargs="?", default="HEAD")
        s.add_argument("-d", "--delete", metavar="NAME")
        s.set_defaults(run=_refs_cmd(kind))
    s = sub.add_parser("trust", help="allow MODULE.NAME to load from this repository")
    s.add_argument("name")
    s.set_defaults(run=_cmd_trust)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .repo import Repo

    try:
        repo = Repo.open(args.path, create=False)
        try:
            return args.run(repo, args) or 0
        finally:
            repo.close()
    except MvcError as exc:
        print(f"mvc: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
