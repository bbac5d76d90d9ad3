"""The %mv_ line magics: parse (shlex + argparse, so `-m "two words"` works as typed),
call the kernel session (or the API), print its report in words. jupyter_mvc errors
become one-line `UsageError`s."""

from __future__ import annotations

import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .. import api
from ..errors import MvcError
from ..present import history, text
from ..present.progress import ProgressLine
from ..session import KernelSession
from . import messages
from .lines import friendly, in_frontend, pairs, parse, words_as_message


@magics_class
class MvcMagics(Magics):
    def __init__(self, shell, session: KernelSession):
        super().__init__(shell)
        self.session = session

    @line_magic
    @friendly
    @magic_arguments()
    @argument("names", nargs="*", metavar="NAME", help="variables to commit (default: every variable worth versioning)")
    @argument("-m", "--message", help="what this version is")
    @argument("--metric", action="append", metavar="NAME=NUMBER", help="a scalar metric (repeatable)")
    @argument("--param", action="append", metavar="NAME=VALUE", help="a hyper-parameter (repeatable)")
    @argument(
        "--allow-secrets",
        action="store_true",
        help="commit even though a credential was found in the notebook, cells or variables",
    )
    def mv_commit(self, line=""):
        """Snapshot variables, metrics, params, the notebook and the executed cells.

        Without NAMEs: every variable worth versioning (not modules, functions, classes or
        IPython's own); one that cannot be serialised is skipped and listed; names that
        look like secrets (token, password, api_key...) are left out unless named.
        With NAMEs: exactly those, all or nothing. Series logged with
        jupyter_mvc.log_metric(), curves models carry (loss_curve_, evals_result_, Keras
        History) and get_params() are recorded too. A commit is refused when the notebook,
        the executed cells or a variable hold what looks like a credential (AWS/GitHub/
        OpenAI keys, private keys, `password = "..."` typed into a cell...); --allow-secrets
        confirms it is safe.

        Examples::

          %mv_commit -m "baseline lr=0.1"
          %mv_commit model X_test -m "tuned" --metric acc=0.93 --param lr=0.01
          %mv_commit model -m "epoch {epoch}: loss {loss:.3f}"  # {expr} is expanded
          %mv_commit "tried ridge again"  # no variable named so: the message, all variables
        """
        args = parse(self.mv_commit, line)
        taken = False
        if not args.message:
            variables = self.session.ns
            args.message = words_as_message(
                args.names,
                line,
                [n for n in args.names if n in variables and n not in self.session.kernel.hidden_names()],
            )
            args.names, taken = [], True
        with ProgressLine(sys.stdout) as progress:  # shows after a second; the cell's output rewrites it in place
            report = self.session.commit(
                args.message,
                args.names,
                metrics=pairs(args.metric, "--metric", True),
                params=pairs(args.param, "--param", False),
                allow_secrets=args.allow_secrets,
                progress=progress,
            )
        if taken:
            print(f"{args.message!r} (taken as the message: none of those words is a variable here)")
        print(messages.commit_text(report))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("rev", nargs="?", metavar="REV", help="where to start (default HEAD)")
    @argument("-n", "--limit", type=int, default=30, help="show at most N versions (default 30)")
    @argument("--all", action="store_true", help="every branch and tag, not just REV's history")
    @argument("--text", action="store_true", help="print text even in a notebook")
    def mv_log(self, line=""):
        """The history of versions, newest first: id, branches/tags, HEAD, age, message, metrics.

        In a notebook front-end it shows the timeline widget (check out from it); in a
        terminal, or with --text, one line per version.

        Examples::

          %mv_log
          %mv_log --all -n 10 --text
          %mv_log experiment~3
        """
        args = parse(self.mv_log, line)
        path = self.session.path()
        if in_frontend(self.shell) and not args.text:
            rev = None if args.all else args.rev
            if rev is not None:
                api.resolve(rev, path=path)  # a mistyped REV is an error here too, not an empty timeline
            if self._show_widget("timeline_widget", limit=args.limit, rev=rev):
                return
        infos = api.log(args.rev, path=path, limit=args.limit, all=args.all)
        if not infos:
            print("No versions yet: %mv_commit -m 'message' makes the first.")
            return
        branch = api.head(path=path).branch
        print("\n".join(history.log_lines(infos, branch, self.session.state.version)))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("rev", metavar="REV", help="version to check out: HEAD~1, a branch, tag or id")
    @argument("names", nargs="*", metavar="NAME", help="only these variables (HEAD does not move)")
    @argument("-b", "--branch", metavar="NEW_BRANCH", help="start a new branch at REV")
    @argument("--notebook", action="store_true", help="also restore the .ipynb file (the current one is backed up)")
    @argument("-f", "--force", action="store_true", help="overwrite variables changed since the last commit")
    @argument("--allow", action="append", default=[], metavar="MODULE.NAME", help="trust one class to load")
    @argument("--trust", action="store_true", help="load anything: only for versions you made yourself")
    @argument("--lazy", action="store_true", help="map arrays and tensors: pages are read on first touch")
    @argument("--device", metavar="DEV", help="put tensors on this device (cpu, cuda:1, meta), like map_location")
    def mv_checkout(self, line=""):
        """Put a version's variables back into the namespace.

        Refuses, listing them, when it would overwrite variables changed since the last
        commit (like Git with a dirty tree) unless --force. Says what it restored and what
        it left alone. Loading never runs code from classes outside the safe allow-list
        unless you --allow them.

        Examples::

          %mv_checkout HEAD~1
          %mv_checkout baseline model
          %mv_checkout 1a2b3c4d -b try-dropout
          %mv_checkout v1 --notebook
          %mv_checkout big-model --lazy
          %mv_checkout gpu-run --device cpu
        """
        args = parse(self.mv_checkout, line)
        with ProgressLine(sys.stdout) as progress:
            report = self.session.checkout(
                args.rev,
                args.names,
                force=args.force,
                new_branch=args.branch,
                notebook=args.notebook,
                trust=args.trust,
                allow=args.allow,
                progress=progress,
                lazy=args.lazy,
                map_location=args.device,
            )
        print(messages.checkout_text(report))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("old", nargs="?", default="HEAD~1", metavar="OLD", help="default HEAD~1")
    @argument("new", nargs="?", default="HEAD", metavar="NEW", help="default HEAD")
    def mv_diff(self, line=""):
        """What changed between two versions: variables (with per-array change counts and
        max |delta|), params and metrics.

        Examples::

          %mv_diff
          %mv_diff baseline HEAD
        """
        args = parse(self.mv_diff, line)
        print("\n".join(text.diff_lines(api.diff(args.old, args.new, path=self.session.path()))))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("name", nargs="?", metavar="NAME", help="branch to create (none: list branches)")
    @argument("rev", nargs="?", default="HEAD", metavar="REV", help="where it starts (default HEAD)")
    @argument("-d", "--delete", action="store_true", help="delete NAME (refused if versions would be lost)")
    @argument("-D", dest="force_delete", action="store_true", help="delete NAME even if versions would be lost")
    def mv_branch(self, line=""):
        """List, create or delete branches of versions (switch with %mv_checkout NAME).

        Examples::

          %mv_branch
          %mv_branch experiment
          %mv_branch -d experiment
        """
        args = parse(self.mv_branch, line)
        if (args.delete or args.force_delete) and not args.name:
            raise UsageError("which branch? %mv_branch -d NAME")
        path = self.session.path()
        if args.name is None:
            print(
                messages.refs_text(
                    api.branches(path=path), api.head(path=path).branch, "No branches yet: %mv_commit creates 'main'."
                )
            )
        elif args.delete or args.force_delete:
            sha = api.delete_branch(args.name, force=args.force_delete, path=path)
            print(f"Deleted branch {args.name} (was {sha[:8]}).")
        else:
            sha = api.branch(args.name, args.rev, path=path)
            print(f"Created branch {args.name} at {sha[:8]}. Switch to it with %mv_checkout {args.name}.")

    @line_magic
    @friendly
    @magic_arguments()
    @argument("name", nargs="?", metavar="NAME", help="tag to create (none: list tags)")
    @argument("rev", nargs="?", default="HEAD", metavar="REV", help="version to tag (default HEAD)")
    @argument("-d", "--delete", action="store_true", help="delete tag NAME")
    @argument("--best", metavar="METRIC", help="tag the best version by METRIC as NAME (default best-METRIC)")
    @argument("--follow-best", metavar="METRIC", help="as --best, and move the tag on each commit that improves it")
    @argument("--unfollow", metavar="METRIC", help="stop moving the tag that follows METRIC")
    def mv_tag(self, line=""):
        """List, create or delete tags: fixed names for versions, e.g. the one in production.
        --best tags the version with the best value of a metric (lowest loss, highest
        accuracy: %mv_metric_goal), --follow-best keeps the tag there as commits improve it.

        Examples::

          %mv_tag
          %mv_tag prod
          %mv_tag best HEAD~2
          %mv_tag -d best
          %mv_tag --best val_loss
          %mv_tag --follow-best acc
        """
        args = parse(self.mv_tag, line)
        if args.delete and not args.name:
            raise UsageError("which tag? %mv_tag -d NAME")
        path = self.session.path()
        if args.best or args.follow_best or args.unfollow:
            from .runs import tag_text

            print(tag_text(path, args.best, args.follow_best, args.unfollow, args.name))
        elif args.name is None:
            print(messages.refs_text(api.tags(path=path), None, "No tags yet: %mv_tag NAME [REV]."))
        elif args.delete:
            print(f"Deleted tag {args.name} (was {api.delete_tag(args.name, path=path)[:8]}).")
        else:
            print(f"Tagged {api.tag(args.name, args.rev, path=path)[:8]} as {args.name}.")

    @line_magic
    @friendly
    @magic_arguments()
    @argument(
        "--verify", action="store_true", help="hash every value (torch does not count writes through tensor.data)"
    )
    def mv_status(self, line=""):
        """Which tracked variables changed, appeared or vanished since this kernel's last
        commit or checkout (compared by content, writes nothing). Values unchanged by
        torch's own counting are not hashed again; --verify hashes them all.

        Examples::

          %mv_status
          %mv_status --verify
        """
        args = parse(self.mv_status, line)
        print(messages.status_text(self.session.status(verify=args.verify)))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("mode", nargs="?", choices=["on", "off"], help="on or off (none: show)")
    def mv_autocommit(self, line=""):
        """Commit tracked variables automatically after each cell that changed them, with a
        generated message. Off by default.

        Examples::

          %mv_autocommit on
          %mv_autocommit off
        """
        args = parse(self.mv_autocommit, line)
        state = self.session.state
        if args.mode == "on":
            self.session.enable_autocommit()
            what = "every variable worth versioning" if state.track_all else ", ".join(sorted(state.tracked))
            print(f"Autocommit on: after each cell that changes them, commits {what}. %mv_autocommit off stops it.")
        elif args.mode == "off":
            self.session.disable_autocommit()
            print("Autocommit off.")
        else:
            print(f"Autocommit is {'on' if state.autocommit else 'off'}.")

    @line_magic
    @friendly
    @magic_arguments()
    @argument("revs", nargs="*", metavar="REV", help="versions to compare (default HEAD)")
    @argument("--metric", metavar="NAME", help="only this series (e.g. loss, or model.loss_curve)")
    @argument("--text", action="store_true", help="print text even in a notebook")
    def mv_plot(self, line=""):
        """Loss curves and other series of one or more versions, overlaid.

        Examples::

          %mv_plot
          %mv_plot HEAD~2 HEAD --metric loss
        """
        args = parse(self.mv_plot, line)
        revs = args.revs or ["HEAD"]
        if in_frontend(self.shell) and not args.text and self._show_widget("curves_widget", revs, metric=args.metric):
            return
        lines = []
        for rev in revs:
            version = api.show(rev, path=self.session.path())
            lines += text.series_lines(
                f"{version.info.short_id} ({rev})", version.metrics.get("series", {}), args.metric
            )
        print(
            "\n".join(lines)
            or f"No series{' named ' + args.metric if args.metric else ''} in "
            f"{', '.join(revs)}. Log some with jupyter_mvc.log_metric('loss', value)."
        )

    @line_magic
    @friendly
    @magic_arguments()
    @argument("rev", nargs="?", default="HEAD", metavar="REV", help="version to reproduce (default HEAD)")
    @argument("--tolerance", type=float, default=0.0, metavar="X", help="max |delta| allowed for numbers (default 0)")
    @argument("--timeout", type=float, default=600.0, metavar="S", help="seconds per cell (default 600)")
    def mv_reproduce(self, line=""):
        """Re-run the cells a version recorded in a fresh kernel (in a temporary copy of the
        notebook's folder; this kernel and your files are not touched, and jupyter_mvc's own
        magics are skipped so no version is written) and say, per variable, whether the run
        produced it again: reproduced (bit-identical, or within --tolerance), differs (with
        max |delta| where numeric) or missing; also metrics that differ and cells that failed.

        Examples::

          %mv_reproduce
          %mv_reproduce baseline --tolerance 1e-6
          %mv_reproduce HEAD~1 --timeout 120
        """
        args = parse(self.mv_reproduce, line)
        if args.tolerance < 0 or args.timeout <= 0:
            raise UsageError("--tolerance must be >= 0 and --timeout > 0, e.g. %mv_reproduce HEAD --tolerance 1e-6")
        report = api.reproduce(args.rev, path=self.session.path(), tolerance=args.tolerance, timeout=args.timeout)
        print(messages.reproduce_text(report))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("names", nargs="+", metavar="NAME", help="variables to stop tracking")
    @argument("-m", "--message", help="what this version is (default: rm NAME...)")
    def mv_rm(self, line=""):
        """Stop tracking variables: commit a version without them (the others carry over
        unchanged). The kernel's own variables are not touched; older versions keep them.

        Examples::

          %mv_rm scratch
          %mv_rm X_train X_test -m "data lives in the feature store now"
        """
        args = parse(self.mv_rm, line)
        path = self.session.path()
        info = api.rm(args.names, path=path, message=args.message)
        self.session.state.version = info.id
        self.session.state.tracked.difference_update(args.names)
        print(messages.rm_text(info, args.names, api.head(path=path).branch))

    # -- helpers -----------------------------------------------------------------------------
    def checkout_message(self, rev: str) -> str:
        """For the timeline widget's button: check out `rev`, say what happened."""
        try:
            return messages.checkout_text(self.session.checkout(rev))
        except MvcError as exc:
            return f"Not checked out: {exc}"

    def _show_widget(self, factory: str, *args, **kwargs) -> bool:
        """Display a widget from jupyter_mvc.widgets; False when they are not available."""
        try:
            from .. import widgets

            make = getattr(widgets, factory)
        except (ImportError, AttributeError):
            return False
        from IPython.display import display

        if factory == "timeline_widget":
            kwargs["on_checkout"] = self.checkout_message
        display(make(api.open_repo(self.session.path(), create=False), *args, **kwargs))
        return True
