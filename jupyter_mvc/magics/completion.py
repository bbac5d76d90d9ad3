"""Tab completion for the %mv_ magics: revisions (HEAD, branches, tags, short ids),
variable names and options, depending on where the cursor is."""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.completer import SimpleCompletion, context_matcher

from .. import api
from ..errors import MvcError
from ..session import KernelSession

_RECENT = 50  # short ids offered: the newest versions
# magic -> what its positional arguments are, in order; the last repeats.
_POSITIONALS = {
    "mv_commit": ["variable"],
    "mv_checkout": ["revision", "version-variable"],
    "mv_log": ["revision"],
    "mv_diff": ["revision"],
    "mv_plot": ["revision"],
    "mv_branch": ["branch", "revision"],
    "mv_tag": ["tag", "revision"],
    "mv_autocommit": ["on-off"],
    "mv_status": [],
    "mv_rm": ["tracked-variable"],
    "mv_reproduce": ["revision"],
    "mv_remote": ["remote-action", "remote"],
    "mv_push": ["remote", "branch"],
    "mv_fetch": ["remote"],
    "mv_pull": ["remote"],
    "mv_merge": ["revision"],
    "mv_runs": ["revision"],
    "mv_metric_goal": ["metric", "goal"],
}
_TAKES_METRIC = {"--sort", "--best", "--follow-best", "--unfollow"}
_TAKES_VALUE = {
    "-m",
    "--message",
    "--metric",
    "--param",
    "-b",
    "--branch",
    "-n",
    "--limit",
    "--allow",
    "--take",
    "--strategy",
    *_TAKES_METRIC,
}


def revisions(session: KernelSession) -> list[str]:
    try:
        with api.open_repo(session.path(), create=False) as repo:
            names = ["HEAD"] + sorted(api.branches(path=repo)) + sorted(api.tags(path=repo))
            names += [v.short_id for v in api.log(path=repo, limit=_RECENT, all=True)]
            return list(dict.fromkeys(names))
    except MvcError:  # not in a repository yet: nothing to offer
        return []


def metrics(session: KernelSession) -> list[str]:
    """Metric names of the newest versions (their headline metrics: no tree reads)."""
    try:
        infos = api.log(path=session.path(), limit=_RECENT, all=True)
    except MvcError:
        return []
    return sorted({name for info in infos for name in info.metrics})


def _remotes(session: KernelSession) -> list:
    try:
        return api.remotes(path=session.path())
    except MvcError:
        return []


def candidates(session: KernelSession, magic: str, words: list[str], token: str, parser=None) -> list[str]:
    """What fits at `token`, the last (partial) word after `%magic words...`."""
    if token.startswith("-") and parser is not None:
        return sorted(o for a in parser._actions for o in a.option_strings)
    if words and words[-1] in _TAKES_METRIC:
        return metrics(session)
    if words and words[-1] in _TAKES_VALUE:
        return []  # a message, metric or branch name: nothing sensible to offer
    positional = [
        w for i, w in enumerate(words) if not w.startswith("-") and (i == 0 or words[i - 1] not in _TAKES_VALUE)
    ]
    kinds = _POSITIONALS.get(magic, [])
    if not kinds:
        return []
    deleting = "-d" in words or "-D" in words
    kind = kinds[min(len(positional), len(kinds) - 1)]
    if kind == "variable":
        return sorted(session.user_variables().objects)
    if kind == "on-off":
        return ["on", "off"]
    if kind == "metric":
        return metrics(session)
    if kind == "goal":
        return ["auto", "max", "min"]
    if kind == "remote-action":
        return ["add", "list", "remove"]
    if kind == "remote":
        return sorted(r.name for r in _remotes(session))
    if kind in ("branch", "tag") and not deleting and magic != "mv_push":
        return []  # a new name
    try:
        with api.open_repo(session.path(), create=False) as repo:
            if kind == "branch":
                return sorted(api.branches(path=repo))
            if kind == "tag":
                return sorted(api.tags(path=repo))
            if kind == "version-variable":
                return sorted(api.show(positional[0], path=repo).manifest.variables)
            if kind == "tracked-variable":  # what HEAD's version holds: only those can stop being tracked
                return sorted(api.show("HEAD", path=repo).manifest.variables)
    except MvcError:
        return []
    return revisions(session)


def install(shell: Any, session: KernelSession, parsers: dict) -> Any:
    """Add a matcher to the shell's completer; returns it (for `uninstall`)."""

    @context_matcher()
    def mv_matcher(context):
        line = context.text_until_cursor.lstrip()
        if not line.startswith("%mv_") and not line.startswith("mv_"):
            return {"completions": [], "suppress": False}
        try:
            words = shlex.split(line)
        except ValueError:  # inside an open quote: a message being typed
            return {"completions": [], "suppress": False}
        magic = words[0].lstrip("%")
        if len(words) == 1 and not line.endswith(" "):
            return {"completions": [], "suppress": False}  # still typing the magic's name
        token = context.token
        args = words[1:] if line.endswith(" ") or not token else words[1:-1]
        options = candidates(session, magic, args, token, parsers.get(magic))
        matches = [SimpleCompletion(c, type="mvc") for c in options if c.startswith(token)]
        return {"completions": matches, "suppress": bool(matches)}

    shell.Completer.custom_matchers.append(mv_matcher)
    return mv_matcher


def uninstall(shell: Any, matcher: Any) -> None:
    if matcher in shell.Completer.custom_matchers:
        shell.Completer.custom_matchers.remove(matcher)
