"""The Python API documents itself: every public callable of ``mmkit`` (the package's public names
and the public modules' functions, classes, methods and properties) and of the extension
``mmkit._core`` carries a non-empty docstring, and the shipped typing stub ``_core.pyi`` declares,
with its docstring, every public name of ``mmkit._core`` (docs/python_api.md, "Stubs")."""
from __future__ import annotations

import ast
import importlib
import inspect
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

import mmkit
from mmkit import _core

#: The public modules of the package whose own definitions are checked (besides mmkit.__all__).
PUBLIC_MODULES = ("data", "backtest", "results", "report", "verify", "bench", "calibrate", "papers",
                  "execution")


def _module(name: str):
    # import_module, not getattr(mmkit, name): mmkit.backtest is the function, not the module.
    return importlib.import_module(f"mmkit.{name}")


def _nb_docs(fn: Any) -> list[str] | None:
    """The docstrings of a nanobind function, one per overload (None for a Python object).
    A nanobind __doc__ always starts with the signature, so it is never empty by itself."""
    sig = getattr(fn, "__nb_signature__", None)
    if sig is None:
        return None
    return [(doc or "").strip() for _, doc, *_ in sig]


def _doc_missing(obj: Any) -> bool:
    """True when a function, class or property has no docstring of its own."""
    if isinstance(obj, property):
        docs = _nb_docs(obj.fget)
        if docs is not None:
            return not all(docs)
        return not (obj.__doc__ or "").strip()
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    docs = _nb_docs(obj)
    if docs is not None:
        return not all(docs)
    return not (obj.__doc__ or "").strip()


def _is_member(obj: Any) -> bool:
    return (isinstance(obj, (property, staticmethod, classmethod)) or inspect.isfunction(obj)
            or hasattr(obj, "__nb_signature__"))


def _public_members(cls: type) -> Iterator[tuple[str, Any]]:
    """Public methods and properties defined by the class itself (not inherited: nanobind's and
    object's internals stay out); dunders excluded."""
    for name, obj in vars(cls).items():
        if not name.startswith("_") and _is_member(obj):
            yield name, obj


def _inherits_doc(cls: type, name: str) -> bool:
    """An override documented in a base class (what inspect.getdoc shows for it)."""
    return any(name in vars(base) and not _doc_missing(vars(base)[name]) for base in cls.__mro__[1:])


def _undocumented(qualname: str, obj: Any) -> list[str]:
    missing = [qualname] if _doc_missing(obj) else []
    if inspect.isclass(obj):
        missing += [f"{qualname}.{n}" for n, m in _public_members(obj)
                    if _doc_missing(m) and not _inherits_doc(obj, n)]
    return missing


def _core_callables() -> Iterator[tuple[str, Any]]:
    for name in sorted(vars(_core)):
        obj = getattr(_core, name)
        if not name.startswith("_") and (inspect.isclass(obj) or callable(obj)):
            yield name, obj


def _package_callables() -> Iterator[tuple[str, Any]]:
    seen: set[int] = set()
    for name in mmkit.__all__:
        obj = getattr(mmkit, name)
        if inspect.isclass(obj) or callable(obj):
            seen.add(id(obj))
            yield f"mmkit.{name}", obj
    for modname in PUBLIC_MODULES:
        mod = _module(modname)
        for name, obj in vars(mod).items():
            if name.startswith("_") or id(obj) in seen:
                continue
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and getattr(obj, "__module__", "") == mod.__name__:
                seen.add(id(obj))
                yield f"{mod.__name__}.{name}", obj


def test_every_public_callable_of_the_extension_has_a_docstring():
    names = list(_core_callables())
    assert len(names) > 40  # the walk saw the module (functions and classes of every binding file)
    missing = [m for name, obj in names for m in _undocumented(name, obj)]
    assert not missing, f"mmkit._core names without a docstring: {missing}"


def test_every_public_callable_of_the_package_has_a_docstring():
    names = list(_package_callables())
    assert {"mmkit.backtest", "mmkit.open_source", "mmkit.results.BacktestResults"} <= {n for n, _ in names}
    missing = [m for name, obj in names for m in _undocumented(name, obj)]
    assert not missing, f"mmkit names without a docstring: {missing}"


def test_the_walk_finds_a_missing_docstring():
    class Undocumented:
        def method(self) -> None:
            pass

        @property
        def prop(self) -> int:
            return 0

        def _private(self) -> None:
            pass

    assert _undocumented("Undocumented", Undocumented) == ["Undocumented", "Undocumented.method",
                                                           "Undocumented.prop"]
    assert _undocumented("open_source", _core.open_source) == []


# --- the shipped stub -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def stub_text() -> str:
    path = Path(_core.__file__).with_name("_core.pyi")
    if not path.is_file():
        msg = f"{path} not built (cmake target _core_stub; `make build` installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path.read_text()


@pytest.fixture(scope="module")
def stub(stub_text: str) -> ast.Module:
    return ast.parse(stub_text)


def _stub_names(tree: ast.Module) -> dict[str, ast.AST]:
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
        elif isinstance(node, ast.Assign):
            out.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
    return out


def _stub_members(cls: ast.ClassDef) -> dict[str, list[ast.FunctionDef]]:
    out: dict[str, list[ast.FunctionDef]] = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            out.setdefault(node.name, []).append(node)
    return out


def test_the_stub_declares_every_public_name_of_the_extension(stub):
    declared = _stub_names(stub)
    public = [n for n in vars(_core) if not n.startswith("_")]
    assert not [n for n in public if n not in declared], "public _core names missing from _core.pyi"
    missing = []
    for name in public:
        obj = getattr(_core, name)
        if inspect.isclass(obj) and isinstance(declared[name], ast.ClassDef):
            members = _stub_members(declared[name])
            missing += [f"{name}.{m}" for m, _ in _public_members(obj) if m not in members]
    assert not missing, f"class members missing from _core.pyi: {missing}"


def test_the_stub_carries_the_docstrings(stub):
    declared = _stub_names(stub)
    undocumented = []
    for name, obj in _core_callables():
        node = declared.get(name)
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and not _doc_missing(obj):
            if not ast.get_docstring(node):
                undocumented.append(name)
        if inspect.isclass(obj) and isinstance(node, ast.ClassDef):
            members = _stub_members(node)
            for m, member in _public_members(obj):
                if not _doc_missing(member) and not any(ast.get_docstring(f) for f in members.get(m, [])):
                    undocumented.append(f"{name}.{m}")
    assert not undocumented, f"documented in the extension, bare in _core.pyi: {undocumented}"


@pytest.mark.parametrize("signature", [
    "def open_source(paths: Sequence[str], instrument: str = '', publisher: int = -1, tick_size: int = 0) -> EventSource",
    "def replay(paths: Sequence[str], impl: str = 'auto', instrument: str = '', publisher: int = -1, "
    "tick_size: int = 0) -> dict[str, Any]",
    "def read_candles(path: str) -> dict[str, Any]",
    "def event_names() -> dict[str, list[str]]",
    "def result(self) -> dict[str, Any]",
    "def tolerated(self) -> dict[str, int]",
    "def locate(self, record: int, /) -> str",
    "def calibrate_flow(paths: Sequence[str], source: dict[str, Any] = {}, options: dict[str, Any] = {}) "
    "-> FlowCalibration",
    "def paper_almgren_chriss_2001(lambdas: Sequence[float]) -> list[dict[str, Any]]",
])
def test_the_stub_gives_precise_signatures(stub_text, signature):
    assert signature + ":" in stub_text


# --- documented contracts -------------------------------------------------------------------

def test_documented_errors_and_sentinels_of_the_event_file_functions(tmp_path):
    src = tmp_path / "syn.mmk"
    assert _core.write_synthetic_event_file({"duration_s": 5.0, "seed": 3}, str(src))["events"] > 0
    packed = tmp_path / "packed.mmk"
    info = _core.convert([str(src)], str(packed), compress=True)
    assert info["blocks"] >= 1 and isinstance(info["source_format"], str)
    # map_event_file: "Raises mmkit.Error naming the file when ... compressed" (it used to free
    # its reader twice and crash here).
    for _ in range(2):
        with pytest.raises(mmkit.Error, match="packed.mmk"):
            _core.map_event_file(str(packed))
    assert _core.map_event_file(str(src)).shape[1] == 64
    # is_event_file: False for a missing file; verify_event_file: '' when sound, never raises.
    assert _core.is_event_file(str(tmp_path / "missing.mmk")) is False
    assert _core.verify_event_file(str(packed)) == ""
    (tmp_path / "junk.mmk").write_bytes(b"\x89MMK" + b"\0" * 60)
    assert "junk.mmk" in _core.verify_event_file(str(tmp_path / "junk.mmk"))
    # EventSource.read: 0 counts as 1; locate takes the record positionally.
    s = _core.open_source([str(src)])
    assert s.read(0).shape == (1, 64)
    assert isinstance(s.locate(0), str)


def test_backtest_result_columns_have_the_documented_dtypes():
    bt = _core.Backtest([], {"duration_s": 60.0, "seed": 5}, {}, "glft", {}, {"markouts_ms": [100.0, 1000.0]})
    bt.run()
    assert bt.finished and bt.format == "synthetic"
    r = bt.result()
    documented = {
        "fills": {"exch_ts_ns": "int64", "local_ts_ns": "int64", "order_id": "uint64", "side": "int8",
                  "price": "float64", "qty": "float64", "fee": "float64", "maker": "uint8",
                  "queue_ahead_at_entry": "float64", "mid_at_fill": "float64", "markout_100ms": "float64",
                  "markout_1s": "float64"},
        "orders": {"ts_ns": "int64", "exch_ts_ns": "int64", "order_id": "uint64", "event_code": "uint8",
                   "status_code": "uint8", "reason_code": "uint8", "side": "int8", "price": "float64",
                   "qty": "float64", "leaves": "float64", "filled": "float64"},
        "samples": {"ts_ns": "int64", **{k: "float64" for k in ("best_bid", "best_ask", "our_bid", "our_ask", "mid",
                                                                 "position", "pnl", "fees")}},
    }
    for table, columns in documented.items():
        got = {k: (str(v.dtype), v.ndim) for k, v in r[table].items()}
        assert got == {k: (dt, 1) for k, dt in columns.items()}, table
        assert len({len(v) for v in r[table].values()}) == 1, f"{table}: columns of different lengths"
    assert len(r["orders"]["ts_ns"]) > 0
    names = _core.event_names()
    assert max(r["orders"]["event_code"]) < len(names["event"])
    assert isinstance(r["final_position"], float) and isinstance(r["contract_multiplier"], float)
