"""%mv_runs (the runs table: a widget in a notebook, text elsewhere), %mv_metric_goal (which
way is better for a metric, per repository), and the automatic tags of `%mv_tag --best`,
`--follow-best` and `--unfollow` (parsed by %mv_tag in commands.py, done here)."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .. import api
from ..present import fmt
from ..present.runs import best_tag_line, runs_lines
from ..session import KernelSession
from .lines import friendly, in_frontend, parse


@magics_class
class RunsMagics(Magics):
    def __init__(self, shell, session: KernelSession):
        super().__init__(shell)
        self.session = session

    @line_magic
    @friendly
    @magic_arguments()
    @argument("revs", nargs="*", metavar="REV", help="these versions (default: the newest of HEAD's history)")
    @argument("-n", "--limit", type=int, default=20, help="at most N versions (default 20)")
    @argument("--all", action="store_true", help="versions of every branch and tag")
    @argument("--sort", metavar="COLUMN", help="sort by a metric (best first) or a param (ascending)")
    @argument("--asc", dest="descending", action="store_false", default=None, help="with --sort: lowest first")
    @argument("--desc", dest="descending", action="store_true", help="with --sort: highest first")
    @argument("--all-columns", action="store_true", help="also the params and metrics equal in every version")
    @argument("--text", action="store_true", help="print text even in a notebook")
    def mv_runs(self, line=""):
        """The runs table, like `dvc exp show`: a row per version (id, branches and tags,
        message), a column per metric and param that differs between the versions shown,
        the best value of each metric marked ★ (lower for losses and errors, higher for
        accuracies and scores: %mv_metric_goal changes it). In a notebook, a table widget
        whose headers sort; elsewhere, or with --text, text.

        Examples::

          %mv_runs
          %mv_runs --sort val_loss -n 50
          %mv_runs baseline HEAD~1 HEAD --all-columns
          %mv_runs --all --sort acc --text
        """
        args = parse(self.mv_runs, line)
        if args.limit < 1:
            raise UsageError("-n must be at least 1, e.g. %mv_runs -n 20")
        path = self.session.path()
        kwargs = dict(limit=args.limit, all=args.all, sort=args.sort, descending=args.descending)
        if in_frontend(self.shell) and not args.text and self._show(args.revs, kwargs, args.all_columns):
            return
        table = api.runs(args.revs, all_columns=args.all_columns, path=path, **kwargs)
        print("\n".join(runs_lines(table, api.head(path=path).branch, self.session.state.version)))

    def _show(self, revs, kwargs, all_columns) -> bool:
        try:  # the widget needs anywidget: without it, text
            from ..widgets.runs import Runs
        except ImportError:
            return False
        from IPython.display import display

        display(Runs(api.open_repo(self.session.path(), create=False), revs, all_columns=all_columns, **kwargs))
        return True

    @line_magic
    @friendly
    @magic_arguments()
    @argument("metric", nargs="?", metavar="NAME", help="the metric (none: list this repository's goals)")
    @argument(
        "goal", nargs="?", choices=["min", "max", "auto"], help="min: lower is better; max: higher; auto: by name"
    )
    def mv_metric_goal(self, line=""):
        """Which way is better for a metric, in this repository: `min` (a loss), `max` (an
        accuracy), or `auto` (judged by the name again: loss, *_loss, mse, mae, rmse,
        *error*, deviance, perplexity, oob_scores are lower-is-better; the rest higher).
        The ★ of %mv_runs, the timeline and the compare table, and %mv_tag --best, follow it.

        Examples::

          %mv_metric_goal val_score min
          %mv_metric_goal val_score
          %mv_metric_goal
        """
        args = parse(self.mv_metric_goal, line)
        path = self.session.path()
        if args.metric is None:
            chosen = api.metric_goals(path=path)
            print(
                "\n".join(f"  {fmt.printable(k):<24} {v}" for k, v in chosen.items())
                or "No metric goals set: metrics are ranked by name (%mv_metric_goal NAME min|max sets one)."
            )
            return
        goal = api.metric_goal(args.metric, args.goal, path=path)
        way = "lower is better" if goal == "min" else "higher is better"
        source = "set for this repository" if args.metric in api.metric_goals(path=path) else "judged by its name"
        print(f"{fmt.printable(args.metric)}: {goal} ({way}, {source}).")


def tag_text(path, best: str | None, follow: str | None, unfollow: str | None, name: str | None) -> str:
    """What %mv_tag --best / --follow-best / --unfollow did, in words."""
    if unfollow:
        tag = api.unfollow_best(unfollow, path=path)
        if tag is None:
            return f"No tag follows {fmt.printable(unfollow)}."
        return f"{fmt.printable(tag)} no longer follows {fmt.printable(unfollow)}; it stays where it is."
    if follow:
        r = api.follow_best(follow, name, path=path)
        return best_tag_line(r) + f" %mv_tag --unfollow {fmt.printable(follow)} stops it."
    assert best is not None
    return best_tag_line(api.tag_best(best, name, path=path))
