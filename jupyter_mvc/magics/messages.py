"""The words the magics print for the session's reports (the comm sends the same text as
`message`, so the sidebar says what the magic would)."""

from __future__ import annotations

from .. import api
from ..errors import UntrustedDataError
from ..objects import VersionInfo
from ..present import fmt
from ..reproduction import ReproduceReport, table
from ..session import CheckoutReport, CommitReport


def commit_text(r: CommitReport) -> str:
    n = len(r.variables)
    lines = [
        f"{'Autocommitted' if r.auto else 'Committed'} {r.version.short_id} on "
        f"{r.branch or 'detached HEAD'}: {r.version.subject!r}: {n} variable{'s' if n != 1 else ''} "
        f"({', '.join(r.variables)}), {fmt.size(r.size)}; {added_text(r.added)}."
    ]
    if r.carried:
        c = len(r.carried)
        lines.append(
            f"Carried forward unchanged (no bytes): {c} variable{'s' if c != 1 else ''} ({fmt.names(r.carried)}). "
            "%mv_rm NAME stops tracking one."
        )
    if r.version.metrics:
        lines.append("Metrics: " + ", ".join(f"{k}={fmt.number(v)}" for k, v in r.version.metrics.items()))
    if r.version.tags:  # a new version's tags: followed best tags it improved (%mv_tag --follow-best)
        lines.append(f"Best so far: moved tag {', '.join(fmt.printable(t) for t in r.version.tags)} here.")
    if r.skipped:
        lines.append("Skipped (cannot be serialised): " + "; ".join(f"{k}: {v}" for k, v in r.skipped.items()))
    if r.secrets:
        lines.append(
            f"Left out (names look like secrets): {', '.join(r.secrets)}. To version one "
            f"anyway, name it: %mv_commit {r.secrets[0]} ... -m '...'"
        )
    if r.first_mention:
        lines.append("Not captured: " + "; ".join(r.first_mention))
    if r.secrets_named:
        lines.append(
            f"Warning: committing {', '.join(r.secrets_named)} although the name looks like a "
            "secret (you named it); history is shared when pushed."
        )
    if r.created_repo is not None:
        lines.append(f"Created a Git repository at {r.created_repo} for the versions.")
    return "\n".join(lines)


def added_text(added: int) -> str:
    """What a commit cost the store: the variables' size is what they hold, this is what
    was new (an edit of a few rows of a large array adds a few chunks)."""
    if added < 0:  # the tip copies it dropped outweigh what it wrote
        return f"{fmt.size(-added)} freed"
    return f"{fmt.size(added)} added" if added else "nothing new stored (every chunk was already there)"


def checkout_text(r: CheckoutReport) -> str:
    info = r.version
    if r.branch:
        where = f" (now on branch {r.branch})"
    elif r.moved_head:
        where = " (detached: new commits will not move a branch; -b NAME starts one)"
    else:
        where = ""
    lines = [
        f"Checked out {info.short_id} {info.subject!r}{where}.",
        "Restored: " + (", ".join(r.restored) or "nothing"),
    ]
    for members in r.group_restored.values():
        lines.append(f"Restored as one group (they share objects, which stay shared): {', '.join(members)}")
    if r.left_alone:
        lines.append(
            "Left alone (not in that version"
            + (" or not named" if r.names_given else "")
            + "): "
            + fmt.names(r.left_alone)
        )
    for n, why in r.failed.items():
        if n in r.untrusted:
            # The magic's own words: its flag, not the API's allow=[...].
            g = r.untrusted[n]
            lines.append(
                f"Not restored: {n}: refused to load {g!r} (not on the safe-load list; loading it "
                f"could run code). If you trust this version's author: "
                f"%mv_checkout {r.version.short_id} {n} --allow {g}  (or `mvc trust {g}`)"
            )
        else:
            lines.append(f"Not restored: {n}: {why}")
    if r.left_behind:
        short = r.left_behind[:8]
        lines.append(
            f"Warning: left version {short} behind: no branch or tag reaches it, so `mvc gc` "
            f"will remove it. To keep it: %mv_branch NAME {short}"
        )
    if r.notebook:
        lines.append(
            f"Restored the notebook file {r.notebook.path}; the previous one is kept at "
            f"{r.notebook.backup}. Reload it in the editor (File > Reload Notebook from Disk) "
            "before saving."
        )
    return "\n".join(lines)


def rm_text(info: VersionInfo, names: list[str], branch: str | None) -> str:
    return (
        f"Committed {info.short_id} on {branch or 'detached HEAD'}: {info.subject!r}: no longer tracks "
        f"{', '.join(names)} ({len(info.variables)} variable{'s' if len(info.variables) != 1 else ''} left)."
    )


def untrusted_text(exc: UntrustedDataError) -> str:
    """The safe loader's refusal in the magics' own terms (`--allow`, not `allow=[...]`)."""
    return (
        f"refused to load {exc.global_name!r} while loading variable {exc.variable!r} of version "
        f"{exc.version}: it is not on the safe-load list, and loading it could run code. If you "
        f"trust this version's author: add --allow {exc.global_name} to the magic (or run "
        f"`mvc trust {exc.global_name}` once for this repository)."
    )


def status_text(st: api.Status) -> str:
    if st.version is None:
        head = f"On branch {st.branch or '?'}, no versions yet."
    else:
        where = f"branch {st.branch}" if st.branch else "detached HEAD"
        head = f"On {where}, compared with {st.version.short_id} {st.version.subject!r}."
    lines = [head]
    for label, names in (("changed", st.changed), ("new", st.new), ("missing", st.missing)):
        if names:
            lines.append(f"  {label + ':':<10} {fmt.names(names)}")
    if not (st.changed or st.new or st.missing):
        lines.append("  Nothing changed" + (f" ({len(st.unchanged)} variables unchanged)." if st.unchanged else "."))
    elif st.unchanged:
        lines.append(f"  {'unchanged:':<10} {fmt.names(st.unchanged)}")
    return "\n".join(lines)


def refs_text(refs: dict[str, str], current: str | None, empty: str) -> str:
    """`* main  1a2b3c4d` rows (the current branch starred)."""
    lines = [f"{'*' if name == current else ' '} {name:<20} {sha[:8]}" for name, sha in sorted(refs.items())]
    if current and current not in refs:
        lines.insert(0, f"* {current:<20} (no versions yet)")
    return "\n".join(lines) or empty


def reproduce_text(r: ReproduceReport) -> str:
    """The reproduction as a small table: one row per variable, then metrics, failed cells."""
    return "\n".join(table.lines(r))
