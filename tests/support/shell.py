"""Drive the real (global) IPython shell from a test as a person types cells; the `shell`
fixture in tests/functional/conftest.py yields one of these."""

from __future__ import annotations


class Shell:
    """Runs cells as a person types them and returns what they printed."""

    def __init__(self, ip, capsys):
        self.ip, self.capsys = ip, capsys

    def __call__(self, source: str) -> str:
        self.capsys.readouterr()
        result = self.ip.run_cell(source, store_history=True)
        out = self.capsys.readouterr()
        if result.error_before_exec or result.error_in_exec:
            raise result.error_before_exec or result.error_in_exec
        return out.out

    def error(self, source: str):
        """Run a cell that must fail with a one-line UsageError; returns (exception, stderr)."""
        from IPython.core.error import UsageError

        self.capsys.readouterr()
        result = self.ip.run_cell(source, store_history=True)
        out = self.capsys.readouterr()
        assert isinstance(result.error_in_exec, UsageError), (result.error_in_exec, out)
        assert "Traceback" not in out.err + out.out
        return result.error_in_exec, out.err

    @property
    def ns(self) -> dict:
        return self.ip.user_ns
