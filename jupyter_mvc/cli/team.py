"""`mvc` verbs for working as a team: remotes, access to private ones, push, fetch,
pull, clone, merge (jupyter_mvc/sharing.py behind them)."""

from __future__ import annotations

from typing import Any

from .. import api
from ..present import text


def _cmd_remote(args: Any) -> None:
    from ..remote import text as remote_text

    if args.action == "add":
        if not args.url:
            raise SystemExit("mvc remote add NAME URL: give a URL (s3://bucket/prefix, gs://, az://, file:///folder)")
        passphrase = _ask_passphrase() if args.passphrase else None
        r = api.remote_add(
            args.name,
            args.url,
            accept_unsafe=args.accept_unsafe,
            encrypt=args.encrypt,
            passphrase=passphrase,
            git=args.git,
            path=args.path,
        )
        print(
            f"added remote {r.name}: {r.url}"
            + (" (private: encrypted here, readable by granted members)" if r.encrypted else "")
            + (" (accepted without conditional writes)" if r.unsafe else "")
        )
    elif args.action == "remove":
        print(f"removed remote {api.remote_remove(args.name, path=args.path).name} (its data stays where it is)")
    else:
        print("\n".join(remote_text.remote_lines(api.remotes(path=args.path))))


def _ask_passphrase() -> str:
    """From $MVC_PASSPHRASE (CI), else asked twice on the terminal; never an argument."""
    import getpass
    import os

    if os.environ.get("MVC_PASSPHRASE"):
        return os.environ["MVC_PASSPHRASE"]
    first = getpass.getpass("passphrase for this remote: ")
    if not first or first != getpass.getpass("again: "):
        raise SystemExit("mvc: the passphrases were empty or did not match")
    return first


def _cmd_access(args: Any) -> None:
    if args.action == "whoami":
        print(api.whoami())
    elif args.action == "list":
        for m in api.access_list(args.remote, path=args.path):
            print(f"{m.fingerprint}  {m.public}")
    elif not args.key:
        raise SystemExit(f"mvc access {args.action} KEY: give the member's key (they print it with: mvc access whoami)")
    elif args.action == "grant":
        m = api.access_grant(args.key, args.remote, path=args.path)
        print(f"granted {m.fingerprint} access to {args.remote}")
    else:
        m, kept = api.access_revoke(args.key, args.remote, path=args.path)
        print(
            f"revoked {m.fingerprint}: everything pushed to {args.remote} from now on uses a new key. What they "
            "already downloaded, or could read until now, cannot be taken back."
            + ("" if kept else " Passphrase access (if any) was removed: set MVC_PASSPHRASE to keep it next time.")
        )


def _transfer(run: Any) -> Any:
    from ..present.progress import ProgressLine

    meter = ProgressLine()
    try:
        return run(meter)
    finally:
        meter.close()


def _cmd_push(args: Any) -> None:
    from ..remote import text as remote_text

    r = _transfer(
        lambda p: api.push(args.remote, args.branch, all=args.all, tags=args.tags, progress=p, path=args.path)
    )
    print("\n".join(remote_text.push_lines(r)))


def _cmd_fetch(args: Any) -> None:
    from ..remote import text as remote_text

    r = _transfer(lambda p: api.fetch(args.remote, prefetch=args.prefetch, progress=p, path=args.path))
    print("\n".join(remote_text.fetch_lines(r)))


def _cmd_pull(args: Any) -> None:
    from ..remote import text as remote_text

    r = _transfer(lambda p: api.pull(args.remote, progress=p, path=args.path))
    print("\n".join(remote_text.pull_lines(r)))


def _cmd_clone(args: Any) -> None:
    from ..remote import text as remote_text

    r = _transfer(lambda p: api.clone(args.url, args.folder, prefetch=args.prefetch, progress=p))
    print("\n".join(remote_text.clone_lines(r)))


def _cmd_merge(args: Any) -> None:
    from ..sharing import merge_choices  # the remote layer is imported for team commands alone

    result = api.merge(
        args.rev,
        args.message,
        take=merge_choices(args.take, "--take"),
        strategy=merge_choices(args.strategy, "--strategy"),
        trust=args.trust,
        path=args.path,
    )
    print("\n".join(text.merge_lines(result)))


# -- ranking: the runs table, metric goals, best tags (jupyter_mvc/ranking.py) -------------------
def add_parsers(sub: Any) -> None:
    s = sub.add_parser("remote", help="list, add or remove remotes (s3://, gs://, az://, file:///)")
    s.add_argument("action", nargs="?", choices=["list", "add", "remove"], default="list")
    s.add_argument("name", nargs="?", default="origin")
    s.add_argument("url", nargs="?")
    s.add_argument("--accept-unsafe", action="store_true", help="add a server that ignores conditional writes")
    s.add_argument("--encrypt", action="store_true", help="a private remote: everything encrypted here")
    s.add_argument(
        "--passphrase", action="store_true", help="also open it with a passphrase (asked, or $MVC_PASSPHRASE)"
    )
    s.add_argument(
        "--git", metavar="GIT_REMOTE", help="also push the versions' history (refs/mvc/*) to this Git remote"
    )
    s.set_defaults(run=_cmd_remote)
    s = sub.add_parser("access", help="who may read a private remote: whoami, list, grant KEY, revoke KEY")
    s.add_argument("action", choices=["whoami", "list", "grant", "revoke"])
    s.add_argument("key", nargs="?", help="a member key (mvc-x25519:...) or, to revoke, its fingerprint")
    s.add_argument("--remote", default="origin")
    s.set_defaults(run=_cmd_access)
    s = sub.add_parser("push", help="upload the versions a remote lacks, then move its branch")
    s.add_argument("remote", nargs="?", default="origin")
    s.add_argument("branch", nargs="?", help="default: the current branch")
    s.add_argument("--all", action="store_true", help="every branch")
    s.add_argument("--tags", action="store_true", help="and every tag")
    s.set_defaults(run=_cmd_push)
    s = sub.add_parser("fetch", help="a remote's history (REMOTE/BRANCH revisions); chunks when needed")
    s.add_argument("remote", nargs="?", default="origin")
    s.add_argument("--prefetch", action="store_true", help="also every chunk of its branches, now")
    s.set_defaults(run=_cmd_fetch)
    s = sub.add_parser("pull", help="fetch, then fast-forward the current branch")
    s.add_argument("remote", nargs="?", default="origin")
    s.set_defaults(run=_cmd_pull)
    s = sub.add_parser("merge", help="merge a branch (or origin/main) into the current one, variable by variable")
    s.add_argument("rev")
    s.add_argument("-m", "--message")
    s.add_argument("--take", action="append", default=[], metavar="NAME=ours|theirs")
    s.add_argument("--strategy", action="append", default=[], metavar="NAME=average|task-arithmetic")
    s.add_argument("--trust", action="store_true", help="load anything (strategies load values)")
    s.set_defaults(run=_cmd_merge)
    s = sub.add_parser("clone", help="a new project folder from a remote")
    s.add_argument("url")
    s.add_argument("folder")
    s.add_argument("--prefetch", action="store_true", help="fetch every chunk now, not when loaded")
    s.set_defaults(run=_cmd_clone)
