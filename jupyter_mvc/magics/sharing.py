"""%mv_remote, %mv_push, %mv_fetch, %mv_pull: the remote verbs in a notebook, printing
what `mvc` prints, with a progress line for transfers over a second."""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .. import api
from ..present import text
from ..present.progress import ProgressLine
from ..remote import text as remote_text
from ..session import KernelSession
from . import messages
from .lines import friendly, parse


def _transfer(run: Any) -> Any:
    meter = ProgressLine(sys.stdout)  # a cell shows stdout; the line rewrites itself in place
    try:
        return run(meter)
    finally:
        meter.close()


@magics_class
class SharingMagics(Magics):
    def __init__(self, shell, session: KernelSession):
        super().__init__(shell)
        self.session = session

    @line_magic
    @friendly
    @magic_arguments()
    @argument("action", nargs="?", choices=["list", "add", "remove"], default="list")
    @argument("name", nargs="?", default="origin")
    @argument("url", nargs="?", help="s3://bucket/prefix, gs://..., az://..., file:///shared/folder")
    @argument("--accept-unsafe", action="store_true", help="add a server that ignores conditional writes")
    @argument("--encrypt", action="store_true", help="a private remote: everything encrypted in this kernel")
    def mv_remote(self, line=""):
        """List, add or remove remotes. Credentials come from the cloud's environment
        (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL...), never from the repository.

        Examples::

          %mv_remote add origin s3://team-models/churn
          %mv_remote
        """
        args = parse(self.mv_remote, line)
        path = self.session.path()
        if args.action == "add":
            if not args.url:
                raise UsageError("%mv_remote add NAME URL: give a URL (s3://bucket/prefix, file:///folder...)")
            r = api.remote_add(args.name, args.url, accept_unsafe=args.accept_unsafe, encrypt=args.encrypt, path=path)
            print(
                f"Added remote {r.name}: {r.url}"
                + (" (private: encrypted here; grant teammates with mvc access grant KEY)" if r.encrypted else "")
                + (" (accepted without conditional writes)" if r.unsafe else "")
            )
        elif args.action == "remove":
            print(f"Removed remote {api.remote_remove(args.name, path=path).name} (its data stays where it is).")
        else:
            print("\n".join(remote_text.remote_lines(api.remotes(path=path))))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("remote", nargs="?", default="origin")
    @argument("branch", nargs="?", help="default: the current branch")
    @argument("--all", action="store_true", help="every branch")
    @argument("--tags", action="store_true", help="and every tag")
    def mv_push(self, line=""):
        """Upload the versions the remote lacks, then move its branch, unless someone
        else moved it first (then: %mv_fetch and merge).

        Examples::

          %mv_push
          %mv_push origin experiment --tags
        """
        args = parse(self.mv_push, line)
        path = self.session.path()
        r = _transfer(lambda p: api.push(args.remote, args.branch, all=args.all, tags=args.tags, progress=p, path=path))
        print("\n".join(remote_text.push_lines(r)))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("remote", nargs="?", default="origin")
    @argument("--prefetch", action="store_true", help="also every chunk of its branches, now")
    def mv_fetch(self, line=""):
        """Bring the remote's history: its branches become REMOTE/BRANCH revisions
        (%mv_checkout origin/main); chunks come when a variable is loaded."""
        args = parse(self.mv_fetch, line)
        path = self.session.path()
        r = _transfer(lambda p: api.fetch(args.remote, prefetch=args.prefetch, progress=p, path=path))
        print("\n".join(remote_text.fetch_lines(r)))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("remote", nargs="?", default="origin")
    def mv_pull(self, line=""):
        """Fetch, then fast-forward the current branch (the kernel's variables stay as
        they are until you %mv_checkout it). Diverged: merge first."""
        args = parse(self.mv_pull, line)
        path = self.session.path()
        r = _transfer(lambda p: api.pull(args.remote, progress=p, path=path))
        print("\n".join(remote_text.pull_lines(r)))

    @line_magic
    @friendly
    @magic_arguments()
    @argument("rev", metavar="BRANCH", help="what to merge into the current branch: a branch, origin/main, an id")
    @argument("-m", "--message", help="default: Merge BRANCH into CURRENT")
    @argument("--take", action="append", default=[], metavar="NAME=ours|theirs", help="resolve a conflict by side")
    @argument("--strategy", action="append", default=[], metavar="NAME=average|task-arithmetic", help="combine weights")
    @argument("--checkout", action="store_true", help="then check the merged version out (dirty guard applies)")
    @argument(
        "-f", "--force", action="store_true", help="with --checkout: overwrite variables changed since the last commit"
    )
    @argument(
        "--allow", action="append", default=[], metavar="MODULE.NAME", help="trust one class to load (strategies)"
    )
    def mv_merge(self, line=""):
        """Merge a branch into the current one, variable by variable against their common
        ancestor. Conflicts stop it before anything is written and list the flags that
        resolve them. The kernel's variables stay as they are unless --checkout.

        Examples::

          %mv_merge experiment
          %mv_merge origin/main --take model=theirs
          %mv_merge fine-tune-b --strategy weights=average --checkout
        """
        from ..sharing import merge_choices  # the remote layer is imported for team magics alone

        args = parse(self.mv_merge, line)
        result = api.merge(
            args.rev,
            args.message,
            take=merge_choices(args.take, "--take"),
            strategy=merge_choices(args.strategy, "--strategy"),
            allow=tuple(args.allow),
            path=self.session.path(),
        )
        print("\n".join(text.merge_lines(result)))
        if result.outcome == "up to date":
            return
        if args.checkout:
            print(messages.checkout_text(self.session.checkout("HEAD", force=args.force)))
        else:
            print("The kernel is unchanged: %mv_checkout HEAD loads the merged version.")
