"""Merging a branch into the current one from the Versions sidebar, run off the event loop.

POST merge {path, rev, take?, strategy?}
    rev       what to merge into the current branch: a branch, origin/main, an id
    take      {variable: "ours" | "theirs"}: resolve a conflict by side
    strategy  {variable: "average" | "task-arithmetic"}: combine same-shaped weights

200: {outcome ("merged", "fast-forward", "up to date"), version (the merge version, or the
tip fast-forwarded to; null: none), taken (variable -> how it was decided), notes,
message (the lines %mv_merge prints)}.

409 when variables conflict: {error: "MergeConflictError", message (the full text, with
the flags that resolve it), conflicts: [{names, kind, detail, strategies}]}; nothing was
written. Post again with `take` / `strategy` for the conflicts' names.

The kernel is never touched: checking the merged version out is the user's next step.
Code in the versions is never run (trust=False): a strategy over a class outside the safe
list is refused with a message that says so.
"""

from __future__ import annotations

import tornado

from .. import api
from ..objects import jsonable
from ..present.text import merge_lines
from ..present.views import info_view
from .handlers import BadRequest, MvcHandler


def choices(body: dict, key: str) -> dict[str, str] | None:
    """`take` / `strategy` from the body: a JSON object of variable -> string, or absent.
    Which values are allowed (and for which variables) is the merge's to say."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        example = '{"w": "theirs"}' if key == "take" else '{"w": "average"}'
        raise BadRequest(400, f"{key!r} must be a JSON object of variable name -> string, e.g. {example}.")
    return value or None


class MergeHandler(MvcHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        path = self.target(self.arg("path", body=body))
        rev = self.arg("rev", body=body)
        take, strategy = choices(body, "take"), choices(body, "strategy")

        def work():
            with api.open_repo(path, create=False) as repo:
                result = api.merge(rev, take=take, strategy=strategy, trust=False, path=repo)
                return {
                    "outcome": result.outcome,
                    "version": info_view(result.version) if result.version is not None else None,
                    "taken": jsonable(result.taken),
                    "notes": [str(n) for n in result.notes],
                    "message": "\n".join(merge_lines(result)),
                }

        self.reply(await self.run(work))
