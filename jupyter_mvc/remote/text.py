"""Push, fetch, pull and clone reports as lines of text (the magics and the CLI print the same)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..present import fmt

if TYPE_CHECKING:  # in annotations only: printing a report needs no remote machinery
    from .remotes import Remote
    from .reports import CloneReport, FetchReport, PullReport, PushReport


def _short(sha: str | None) -> str:
    return sha[:8] if sha else "(none)"


def push_lines(r: PushReport) -> list[str]:
    if r.up_to_date:
        return [f"Everything up to date on {r.remote}."]
    out = []
    for ref, (old, new) in r.moved.items():
        name = fmt.printable(ref.split("/", 1)[1])
        out.append(
            f"{r.remote}/{name}: {_short(old)} -> {_short(new)}"
            if ref.startswith("heads/")
            else f"{r.remote}: tag {name} at {_short(new)}"
        )
    resumed = f"; {r.chunks_already_there} chunk(s) the remote already had" if r.chunks_already_there else ""
    out.append(
        f"Pushed {r.versions} version(s): {r.chunks} chunk(s), {fmt.size(r.bytes_uploaded)} in {r.packs} pack(s){resumed}, "
        f"history {fmt.size(r.history_bytes)}, in {r.seconds:.1f} s."
    )
    if r.git_remote:
        if r.git_refused:
            for ref, why in r.git_refused.items():
                out.append(
                    f"Git remote {r.git_remote} refused {fmt.printable(ref)}: {fmt.printable(why)} (nothing forced)"
                )
        else:
            out.append(f"History also on Git remote {r.git_remote} (refs/mvc/*).")
    return out


def fetch_lines(r: FetchReport) -> list[str]:
    out = []
    for branch, (old, new) in sorted(r.branches.items()):
        name = f"{r.remote}/{fmt.printable(branch)}"
        out.append(f"{name}: deleted on the remote" if new is None else f"{name}: {_short(old)} -> {_short(new)}")
    if r.new_tags:
        out.append(f"new tags: {fmt.names(r.new_tags)}")
    if r.conflicting_tags:
        out.append(f"tags left alone (the remote has them on other versions): {fmt.names(r.conflicting_tags)}")
    if r.prefetched_bytes:
        out.append(f"fetched {fmt.size(r.prefetched_bytes)} of chunks")
    if not out:
        out.append(f"{r.remote}: nothing new.")
    return out


def pull_lines(r: PullReport) -> list[str]:
    out = fetch_lines(r.fetch)
    if r.outcome == "fast-forward":
        out.append(
            f"{r.branch}: fast-forward {_short(r.old)} -> {_short(r.new)}. The kernel is unchanged: load it with %mv_checkout {r.branch} (or jupyter_mvc.checkout)"
        )
    elif r.outcome == "ahead":
        out.append(f"{r.branch} is ahead of {r.fetch.remote}/{r.branch}: nothing to pull (push to share it).")
    else:
        out.append(f"{r.branch} is up to date with {r.fetch.remote}/{r.branch}.")
    return out


def clone_lines(r: CloneReport) -> list[str]:
    out = [f"Cloned {r.url} into {r.folder} (remote {r.remote}): branches {fmt.names(r.branches) or 'none'}."]
    if r.branch:
        out.append(
            f"On branch {r.branch}. Chunks are fetched when a version is loaded (or all now: mvc fetch --prefetch)."
        )
    if r.unsafe:
        out.append("warning: this remote ignores conditional writes; two pushes at once could lose one.")
    return out


def remote_lines(items: list[Remote]) -> list[str]:
    if not items:
        return ["No remotes. Add one: mvc remote add origin s3://bucket/prefix (or file:///shared/folder)."]
    return [
        f"{r.name:<12} {r.url}" + ("  (no conditional writes: accepted as unsafe)" if r.unsafe else "") for r in items
    ]
