"""Errors for bad user input.

Every problem with a file the user gave us (scenario, Zensus CSV, sweep file) is raised as an
:class:`InputError` that names the file and the field. The CLI prints it as one line and exits
with status 2.
"""

from __future__ import annotations

import errno
from pathlib import Path


class InputError(Exception):
    """A user-supplied file or value is invalid.

    Args:
        source: The file (or command-line option) the problem is in.
        field: The offending field as a dotted path, column name or line reference.
        message: What is wrong, in one short sentence.
    """

    def __init__(self, source: str | Path, field: str | None, message: str) -> None:
        self.source = str(source)
        self.field = field
        self.message = " ".join(str(message).split())
        super().__init__(self.one_line())

    def __reduce__(self):
        # a worker's error crosses to the main process whole (its fields, not its __init__)
        return (_rebuilt, (self.__class__, self.args, dict(self.__dict__)))

    def one_line(self) -> str:
        """The error as a single line: ``file: field: message``."""
        parts = [self.source]
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


def _rebuilt(cls: type, args: tuple, state: dict) -> InputError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


_IO_HINTS = {
    errno.ENOSPC: "the disk is full: free space and run the command again",
    errno.EDQUOT: "the disk quota is used up: free space and run the command again",
    errno.EROFS: "the file system is read-only: give a folder on a writable one",
    errno.EACCES: "permission denied: give a folder you may write to",
    errno.EPERM: "not permitted: give a folder you may write to",
    errno.ENOTDIR: "a file is in the way where a folder should be: give another path",
    errno.EISDIR: "a folder is in the way where a file should be: give another path",
    errno.EEXIST: "a file is in the way: give another path",
    errno.ENAMETOOLONG: "the name is too long: give a shorter path",
}


def io_error(exc: OSError, source: str, target: str | Path | None = None) -> InputError:
    """A failed write (full disk, read-only folder, no permission, a file in the way) as one
    line naming the path (``target``, else the file that failed) and what to do; files
    already written are left as they were."""
    path = target if target is not None else exc.filename
    what = f"cannot write {display_path(path)}" if path is not None else "cannot write"
    hint = _IO_HINTS.get(exc.errno or 0, exc.strerror or exc.__class__.__name__)
    return InputError(source, None, f"{what}: {hint} (nothing was changed)")


def display_path(path: str | Path) -> str:
    """A path as the user would write it: relative to the working folder when below it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_toml_model(path: str | Path, model, *, prepare=None, field_name=None):
    """Read a TOML file into a pydantic model (sweep, calibration and sensitivity files).

    Args:
        path: The file.
        model: A pydantic model class (``extra="forbid"`` makes unknown keys errors).
        prepare: Optional function applied to the raw table before validation.
        field_name: Optional function turning an error's location (list of str) into the
            field named in the message (default: the dotted path).

    Raises:
        InputError: naming the file and the field (unknown key, wrong type, bad TOML).
    """
    import tomllib

    from pydantic import ValidationError

    source = display_path(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(source, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(source, None, f"cannot read file ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(source, None, f"not valid TOML: {exc}") from None
    if prepare is not None:
        raw = prepare(raw)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        field = (field_name(loc) if field_name else ".".join(loc)) or None
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err and not (
                isinstance(err["input"], dict)):
            msg = f"{msg} (got {err['input']!r})"
        raise InputError(source, field, msg) from None
