"""`mvc`: the version store from a terminal or CI.

mvc init [DIR]
mvc log [REV] [-n N] [--all]     mvc show REV      mvc diff A [B]
mvc export REV NAME -o FILE [--force]   mvc fsck   mvc gc [--grace SECONDS]
mvc branch [NAME [REV]] [-d|-D NAME] mvc tag [NAME [REV]] [-d NAME]
mvc rm NAME... [-m MSG]
mvc runs [REV...] [-n N] [--sort COL] [--all-columns]   mvc metric-goal [NAME [min|max|auto]]
mvc tag --best METRIC [NAME]   mvc tag --follow-best METRIC [NAME]   mvc tag --unfollow METRIC
mvc trust MODULE.NAME            mvc reproduce [REV] [--tolerance X] [--timeout S]
mvc remote [add NAME URL | remove NAME]   mvc clone URL DIR [--prefetch]
mvc push [REMOTE] [BRANCH] [--all] [--tags]   mvc fetch [REMOTE] [--prefetch]   mvc pull [REMOTE]
mvc merge BRANCH [-m MSG] [--take NAME=ours|theirs]... [--strategy NAME=average|task-arithmetic]...
mvc remote add NAME URL --encrypt [--passphrase]   mvc access whoami|list|grant KEY|revoke KEY [--remote R]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .. import api
from ..errors import (
    ExportError,
    MvcError,
    NotARepositoryError,
    RefDeleteRefusedError,
    SecretsFoundError,
    UntrustedDataError,
)
from ..present import fmt, history, text
from . import team


def _cmd_log(args: Any) -> None:
    with api.open_repo(args.path, create=False) as repo:  # one open for the three reads (each runs git)
        infos = api.log(args.rev, path=repo, limit=args.n, all=args.all)
        branch = api.head(path=repo).branch
        signed = api.signatures([i.id for i in infos], path=repo)
    suffix = {sha: f"  [signed: {status}, {key}]" for sha, (status, key) in signed.items()}
    for line in history.log_lines(infos, branch, suffix=suffix):
        print(line)


def _cmd_init(args: Any) -> None:
    import os

    folder = os.path.abspath(os.path.join(args.path, args.folder))
    os.makedirs(folder, exist_ok=True)
    with api.open_repo(folder, create=True) as repo:
        if repo.created:
            print(
                f"Created a Git repository at {repo.root} for jupyter_mvc versions (your own branches are untouched)."
            )
        else:
            print(f"{folder} is already inside the Git repository at {repo.root}: versions go there.")
    print("Commit state with %mv_commit in a notebook (%load_ext jupyter_mvc), or jupyter_mvc.commit() in Python.")


def _cmd_show(args: Any) -> None:
    print("\n".join(text.version_lines(api.show(args.rev, path=args.path))))


def _cmd_diff(args: Any) -> None:
    print("\n".join(text.diff_lines(api.diff(args.old, args.new, path=args.path))))


def _cmd_export(args: Any) -> None:
    from ..export import check_target, export
    from ..present.progress import ProgressLine

    check_target(args.name, args.output, overwrite=args.force)  # before loading anything
    with ProgressLine() as progress:  # on stderr, after a second: loading, then writing the file
        obj = api.load(args.rev, args.name, path=args.path, trust=args.trust, progress=progress)
        written = export(obj, args.name, args.output, overwrite=args.force, progress=progress)
    print(f"wrote {fmt.printable(args.name)} of {api.resolve(args.rev, path=args.path)[:8]} to {written}")


def _cmd_fsck(args: Any) -> int:
    if args.remote:
        r = api.remote_fsck(args.remote, data=args.data, path=args.path)
        for problem in r.problems:
            print(f"error: {fmt.printable(problem)}")
        print(
            f"remote {r.remote}: {r.packs} packs, {r.chunks_reachable} chunks needed"
            + (f", {r.chunks_checked} downloaded and verified" if args.data else "")
            + (": ok" if r.ok else f": {len(r.problems)} problems")
        )
        return 0 if r.ok else 1
    report = api.fsck(path=args.path)
    for p in report.problems:
        print(f"error: {fmt.printable(p)}")
    print(
        f"checked {report.versions} versions, {report.objects} objects: "
        + ("ok" if report.ok else f"{len(report.problems)} problems")
        + (f" ({report.not_fetched} chunks are on a remote, not fetched yet)" if report.not_fetched else "")
    )
    return 0 if report.ok else 1


def _cmd_gc(args: Any) -> None:
    if args.remote:
        g = api.remote_gc(args.remote, grace_seconds=args.grace, path=args.path)
        print(
            f"remote {g.remote}: removed {g.packs_removed} packs ({fmt.size(g.bytes_freed)}); kept {g.packs_kept} "
            f"needed and {g.packs_too_young} younger than the grace period"
        )
        return
    r = api.gc(path=args.path, grace_seconds=args.grace)
    print(
        f"removed {r.objects_removed} objects ({fmt.size(r.bytes_freed)}) and {r.temp_files_removed} "
        f"temp files; kept {r.objects_kept} reachable objects"
        + (f", {r.chunks_packed} of them moved into packs" if r.chunks_packed else "")
    )


def _cmd_branch(args: Any) -> None:
    if args.delete or args.force_delete:
        name = args.delete or args.force_delete
        api.delete_branch(name, force=bool(args.force_delete), path=args.path)
        print(f"deleted branch {name}")
    elif args.name:
        print(f"created branch {args.name} at {api.branch(args.name, args.rev, path=args.path)[:8]}")
    else:
        current = api.head(path=args.path).branch
        for name, sha in sorted(api.branches(path=args.path).items()):
            print(f"{'*' if name == current else ' '} {fmt.printable(name):<20} {sha[:8]}")


def _cmd_tag(args: Any) -> None:
    if args.best or args.follow_best or args.unfollow:
        _tag_best(args)
    elif args.delete:
        api.delete_tag(args.delete, path=args.path)
        print(f"deleted tag {args.delete}")
    elif args.name:
        print(f"created tag {args.name} at {api.tag(args.name, args.rev, path=args.path)[:8]}")
    else:
        for name, sha in sorted(api.tags(path=args.path).items()):
            print(f"  {fmt.printable(name):<20} {sha[:8]}")


def _cmd_trust(args: Any) -> None:
    if args.signer:
        key = api.trust_signer(args.signer, path=args.path)
        print(f"versions signed by {key[:40]}... may now load anything from this repository (kept in your own config)")
    if args.name:
        api.trust(args.name, path=args.path)
        print(f"{args.name} may now load from this repository's versions (kept in your own config, not the repository)")
    if not args.signer and not args.name:
        raise SystemExit("mvc trust MODULE.NAME, or mvc trust --signer KEY.pub")


def _cmd_reproduce(args: Any) -> int:
    from ..reproduction import table

    report = api.reproduce(args.rev, path=args.path, tolerance=args.tolerance, timeout=args.timeout)
    print("\n".join(table.lines(report)))
    return 0 if report.ok else 1


def _cmd_rm(args: Any) -> None:
    info = api.rm(args.names, path=args.path, message=args.message)
    print(f"committed {info.short_id}: no longer tracks {', '.join(args.names)} ({len(info.variables)} left)")


def _cmd_runs(args: Any) -> None:
    from ..present.runs import runs_lines

    table = api.runs(
        args.revs,
        limit=args.n,
        all=args.all,
        sort=args.sort,
        descending=args.descending,
        all_columns=args.all_columns,
        path=args.path,
    )
    print("\n".join(runs_lines(table, api.head(path=args.path).branch)))


def _cmd_metric_goal(args: Any) -> None:
    if args.metric is None:
        chosen = api.metric_goals(path=args.path)
        for name, goal in chosen.items():
            print(f"  {fmt.printable(name):<24} {goal}")
        if not chosen:
            print("no metric goals set: metrics are ranked by name (mvc metric-goal NAME min|max sets one)")
        return
    goal = api.metric_goal(args.metric, args.goal, path=args.path)
    source = "set for this repository" if args.metric in api.metric_goals(path=args.path) else "judged by its name"
    print(f"{fmt.printable(args.metric)}: {goal} ({'lower' if goal == 'min' else 'higher'} is better, {source})")


def _tag_best(args: Any) -> None:
    from ..present.runs import best_tag_line

    if args.unfollow:
        tag = api.unfollow_best(args.unfollow, path=args.path)
        print(f"{tag} no longer follows {args.unfollow}" if tag else f"no tag follows {args.unfollow}")
    elif args.follow_best:
        r = api.follow_best(args.follow_best, args.name, path=args.path)
        print(best_tag_line(r) + f" `mvc tag --unfollow {fmt.printable(args.follow_best)}` stops it.")
    else:
        print(best_tag_line(api.tag_best(args.best, args.name, path=args.path)))


def _ranking_parsers(sub: Any) -> None:
    s = sub.choices["tag"]
    s.add_argument("--best", metavar="METRIC", help="tag the best version by METRIC as NAME (default best-METRIC)")
    s.add_argument("--follow-best", metavar="METRIC", help="as --best, and move it on each commit that improves it")
    s.add_argument("--unfollow", metavar="METRIC", help="stop moving the tag that follows METRIC")
    s = sub.add_parser("runs", help="a table of versions: metrics and params that differ, best marked, sortable")
    s.add_argument("revs", nargs="*", metavar="REV", help="these versions (default: the newest of HEAD's history)")
    s.add_argument("-n", type=int, default=20, help="at most N versions (default 20)")
    s.add_argument("--all", action="store_true", help="versions of every branch and tag")
    s.add_argument("--sort", metavar="COLUMN", help="sort by a metric (best first) or a param (ascending)")
    s.add_argument("--asc", dest="descending", action="store_false", default=None, help="with --sort: lowest first")
    s.add_argument("--desc", dest="descending", action="store_true", help="with --sort: highest first")
    s.add_argument("--all-columns", action="store_true", help="also the columns equal in every version")
    s.set_defaults(run=_cmd_runs)
    s = sub.add_parser("metric-goal", help="which way is better for a metric here: min (a loss) or max")
    s.add_argument("metric", nargs="?", metavar="NAME", help="none: list this repository's goals")
    s.add_argument("goal", nargs="?", choices=["min", "max", "auto"], help="auto: judge by the name again")
    s.set_defaults(run=_cmd_metric_goal)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mvc", description="jupyter_mvc: versions of notebook state")
    p.add_argument("-C", dest="path", default=".", help="run as if started in this folder")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("log", help="list versions")
    s.add_argument("rev", nargs="?")
    s.add_argument("-n", type=int, default=None, help="at most N versions")
    s.add_argument("--all", action="store_true", help="versions of every branch and tag")
    s.add_argument(
        "--graph", action="store_true", help="accepted for git's sake: the graph is drawn whenever lanes split"
    )
    s.set_defaults(run=_cmd_log)
    s = sub.add_parser("init", help="make a Git repository here (or in FOLDER) to hold versions")
    s.add_argument("folder", nargs="?", default=".")
    s.set_defaults(run=_cmd_init)
    s = sub.add_parser("show", help="one version: variables, params, metrics, files")
    s.add_argument("rev", nargs="?", default="HEAD")
    s.set_defaults(run=_cmd_show)
    s = sub.add_parser("diff", help="what changed between two versions")
    s.add_argument("old")
    s.add_argument("new", nargs="?", default="HEAD")
    s.set_defaults(run=_cmd_diff)
    s = sub.add_parser("export", help="write a variable to .npy/.safetensors/.csv/.parquet/.pkl")
    s.add_argument("rev")
    s.add_argument("name")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--trust", action="store_true", help="load classes off the safe list (runs code)")
    s.add_argument("-f", "--force", action="store_true", help="replace the output file if it exists")
    s.set_defaults(run=_cmd_export)
    s = sub.add_parser("fsck", help="verify every reachable object (or a remote's packs)")
    s.add_argument("--remote", metavar="NAME", help="check this remote instead")
    s.add_argument("--data", action="store_true", help="with --remote: download and verify every needed chunk")
    s.set_defaults(run=_cmd_fsck)
    s = sub.add_parser("gc", help="remove objects no version reaches (or a remote's unneeded packs)")
    s.add_argument("--grace", type=float, default=3600.0, help="keep unreachable objects younger than this (s)")
    s.add_argument("--remote", metavar="NAME", help="collect this remote's packs instead")
    s.set_defaults(run=_cmd_gc)
    for kind, run in (("branch", _cmd_branch), ("tag", _cmd_tag)):
        s = sub.add_parser(
            kind, help=f"list, create or delete {kind}es" if kind == "branch" else "list, create or delete tags"
        )
        s.add_argument("name", nargs="?")
        s.add_argument("rev", nargs="?", default="HEAD")
        s.add_argument("-d", "--delete", metavar="NAME")
        if kind == "branch":
            s.add_argument("-D", dest="force_delete", metavar="NAME", help="delete even if versions would be lost")
        s.set_defaults(run=run)
    s = sub.add_parser("reproduce", help="re-run a version's cells in a fresh kernel and compare (exit 1 if not)")
    s.add_argument("rev", nargs="?", default="HEAD")
    s.add_argument("--tolerance", type=float, default=0.0, help="max |delta| allowed for numbers (default 0)")
    s.add_argument("--timeout", type=float, default=600.0, help="seconds per cell (default 600)")
    s.set_defaults(run=_cmd_reproduce)
    s = sub.add_parser("rm", help="commit a version without these variables (stop tracking them)")
    s.add_argument("names", nargs="+", metavar="NAME")
    s.add_argument("-m", "--message", help="what this version is (default: rm NAME...)")
    s.set_defaults(run=_cmd_rm)
    team.add_parsers(sub)
    s = sub.add_parser("trust", help="allow MODULE.NAME, or versions signed by a key, to load from this repository")
    s.add_argument("name", nargs="?")
    s.add_argument(
        "--signer", metavar="KEY", help="an SSH public key (text or .pub file) whose signed versions you trust"
    )
    s.set_defaults(run=_cmd_trust)
    _ranking_parsers(sub)
    return p


def _error_text(exc: MvcError, args: Any) -> str:
    """An error in the command line's own words: its commands and flags, not the API's
    keyword arguments or the magics' flags."""
    import os

    if isinstance(exc, NotARepositoryError):
        why = f" ({exc.why})" if exc.why else ""
        return (
            f"no jupyter_mvc versions here: {os.path.abspath(exc.path)} is not inside a Git repository{why}. "
            "Start one with `mvc init`, or with %mv_commit in a notebook."
        )
    if isinstance(exc, ExportError) and exc.why == "the file exists":
        return f"cannot export {exc.name!r} to {exc.target}: the file exists. Pick another name, or add --force to replace it."
    if isinstance(exc, UntrustedDataError):
        flag = " (or add --trust to load anything)" if hasattr(args, "trust") else ""
        return (
            f"refused to load {exc.global_name!r} while loading variable {exc.variable!r} of version {exc.version}: "
            "it is not on the safe-load list, and loading it could run code. If you trust this version's author: "
            f"mvc trust {exc.global_name}{flag}."
        )
    if isinstance(exc, RefDeleteRefusedError) and "would be lost" in exc.why:
        return (
            f"cannot delete {exc.kind} {exc.name!r}: {exc.why}. Merge or tag them first, or delete it anyway with "
            f"mvc branch -D {exc.name}."
        )
    if isinstance(exc, SecretsFoundError):
        return str(exc).split(" Remove it")[0] + (
            " Remove it (use an environment variable instead) and commit again; mvc has no flag to commit it anyway."
        )
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except MvcError as exc:
        print(f"mvc: error: {fmt.printable(_error_text(exc, args))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
