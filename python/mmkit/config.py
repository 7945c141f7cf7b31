"""Reading TOML config files: one reader for every command's config (backtest, portfolio,
candles, rl), so that every config error reads the same way."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Union

from mmkit import _core

PathLike = Union[str, Path]


def read_toml(path: PathLike) -> dict:
    """The TOML file at ``path`` as a dict (tables as dicts, arrays as lists).

    Raises :class:`mmkit.Error` naming the file when it cannot be read or is not valid TOML
    (with the parser's line and column)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise _core.Error(f"{p}: cannot read config: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise _core.Error(f"{p}: invalid TOML: {e}") from None
