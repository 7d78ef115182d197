"""Make rules saying which package files each executed notebook depends on.

The Makefile runs every notebook into ``$(RESULTS)/``. Making each executed notebook depend on
every package file meant that touching one plotting module reran all six notebooks; this module
narrows that to the files a notebook can actually execute. For each notebook it reads the code
cells (the ``.ipynb`` json; nothing is executed), collects the ``edgeiqa`` imports and follows them
through the package's own sources with :mod:`ast`, and prints one rule per notebook::

    $(RESULTS)/05_regression.ipynb: pyproject.toml src/edgeiqa/__init__.py ...

``$(RESULTS)`` is printed literally so that Make expands it, and the same file serves ``make
reproduce`` (``results/``) and ``make quick`` (``build/quick/``). Paths are relative to the
repository root and sorted, so the output is deterministic.

What counts as a dependency (the rules err on the side of rebuilding):

- ``import edgeiqa.x.y``, ``from edgeiqa.x import y``, ``from edgeiqa.x.y import z`` and, inside
  the package, relative imports, wherever they stand: an import inside a function runs when the
  notebook calls that function, so it is followed like a top-level one.
- Importing ``edgeiqa.x.y`` also executes ``edgeiqa/__init__.py`` and ``edgeiqa/x/__init__.py``.
- ``from edgeiqa.pkg import name`` names a submodule when ``src/edgeiqa/pkg/name.py`` or the
  package folder ``src/edgeiqa/pkg/name/`` exists, otherwise an attribute of ``edgeiqa.pkg``.
- ``importlib.import_module`` / ``importlib.util.find_spec`` / ``__import__`` with a string
  constant count when that module exists (a probe for a module that is absent is no error).
  With a computed name whose leading text is known, e.g.
  ``import_module(f"edgeiqa.data.{name}")``, every module of ``edgeiqa.data`` whose name starts
  with the known part counts (except its ``__main__``): the dataset loaders are reached only
  this way.
- Data files (anything under ``src/edgeiqa`` that is not Python source, e.g.
  ``data/synthetic_calibration.json``) belong to the nearest folder holding Python modules; a
  notebook depends on them when it depends on any module in that folder. Modules read their data
  beside themselves (``Path(__file__).with_name(...)``), so this is where a reader is, without
  trying to find file names in the code.
- ``pyproject.toml`` (package metadata and tool settings) is a dependency of every notebook.

An ``edgeiqa`` import whose module file does not exist is an error: a one-line message naming the
notebook and the import, and exit status 1, so that Make stops instead of running notebooks with
a wrong dependency list.

Only the standard library is used, so the Makefile can run this file with a plain ``python3``
before the virtualenv exists::

    python3 -I src/edgeiqa/notebook_deps.py notebooks/*.ipynb > build/notebook_deps.mk
    python -m edgeiqa.notebook_deps notebooks/*.ipynb        # the same, from the virtualenv
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "edgeiqa"
# Files every notebook depends on besides the package sources.
ALWAYS = ("pyproject.toml",)
# Call targets that import a module named by their first argument.
DYNAMIC_IMPORTERS = frozenset({"import_module", "find_spec", "__import__"})
# Suffixes of files that are no data files: sources (followed as imports) and their bytecode.
IGNORED_SUFFIXES = frozenset({".py", ".pyc", ".pyo"})

REPO_ROOT = Path(__file__).resolve().parents[2]


class DependencyError(Exception):
    """A notebook or package file whose imports cannot be resolved; the message is one line."""


@dataclass(frozen=True)
class _Import:
    """One import found in a notebook cell or a package file."""

    module: str  # absolute dotted name
    names: tuple[str, ...]  # names after ``from module import``; empty for ``import module``
    statement: str  # the source form, for error messages
    where: str  # "cell 3, line 2" or "src/edgeiqa/x.py, line 7"
    prefix: bool = False  # module is a known leading part of a computed name
    optional: bool = False  # a dynamic import: a missing module is skipped, not an error


def _is_ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _leading_text(node: ast.expr) -> tuple[str, bool] | None:
    """The known text of a module-name argument and whether that is all of it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, True
    if isinstance(node, ast.JoinedStr):  # f"edgeiqa.data.{name}"
        text = ""
        for part in node.values:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                return text, False
            text += part.value
        return text, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # "edgeiqa.data." + name
        left = _leading_text(node.left)
        if left is not None and left[1]:
            return left[0], False
        return left
    return None


def _imports(tree: ast.AST, module: str | None, is_package: bool, where: str) -> list[_Import]:
    """The ``edgeiqa`` imports anywhere in ``tree`` (``module`` is None for notebook code)."""
    found: list[_Import] = []
    for node in ast.walk(tree):
        at = f"{where}, line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_ours(alias.name):
                    found.append(_Import(alias.name, (), ast.unparse(node), at))
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                if module is None:  # relative imports mean nothing in a notebook
                    continue
                base = module.split(".") if is_package else module.split(".")[:-1]
                if node.level - 1 >= len(base):
                    raise DependencyError(f"{at}: {ast.unparse(node)}: beyond the top package")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([target] if target else []))
            if _is_ours(target):
                names = tuple(alias.name for alias in node.names if alias.name != "*")
                found.append(_Import(target, names, ast.unparse(node), at))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            known = _leading_text(node.args[0]) if name in DYNAMIC_IMPORTERS else None
            if known is not None and _is_ours(known[0].rstrip(".")):
                text, complete = known
                found.append(_Import(text, (), ast.unparse(node), at, not complete, True))
    return found


def _code_cells(notebook: Path) -> Iterator[tuple[int, str]]:
    """(cell number from 1, Python source) of each code cell, IPython magics neutralised."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as error:
        raise DependencyError(f"{notebook}: not a readable notebook ({error})") from None
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if source.lstrip().startswith("%%"):  # a cell magic: the cell is not Python
            continue
        # Line magics and shell escapes are not Python either; ``pass`` keeps line numbers and
        # any enclosing block valid.
        lines = [
            line[: len(line) - len(line.lstrip())] + "pass"
            if line.lstrip().startswith(("%", "!"))
            else line
            for line in source.splitlines()
        ]
        yield number, "\n".join(lines)


class _Resolver:
    """Maps module names to files under ``<root>/src`` and parses each package file once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.src = root / "src"
        self.package_dir = self.src / PACKAGE
        if not (self.package_dir / "__init__.py").is_file():
            raise DependencyError(f"{self.package_dir}: no {PACKAGE} package here (see --root)")
        self._parsed: dict[Path, list[_Import]] = {}
        self._data_owners = self._data_files()

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _module_path(self, module: str) -> Path:
        return self.src.joinpath(*module.split("."))

    def is_module(self, module: str) -> bool:
        path = self._module_path(module)
        return path.is_dir() or path.with_suffix(".py").is_file()

    def files_of(self, module: str) -> list[Path] | None:
        """Files executed by importing ``module``: its parents' ``__init__.py`` and itself.

        None when the module does not exist. A folder without ``__init__.py`` is a namespace
        package: importable, but there is no file to depend on.
        """
        parts = module.split(".")
        files = []
        for depth in range(1, len(parts) + 1):
            path = self.src.joinpath(*parts[:depth])
            if path.is_dir():
                if (path / "__init__.py").is_file():
                    files.append(path / "__init__.py")
            elif depth == len(parts) and path.with_suffix(".py").is_file():
                files.append(path.with_suffix(".py"))
            else:
                return None
        return files

    def children(self, package: str, stem: str) -> list[str]:
        """Submodules of ``package`` whose names start with ``stem`` (for computed names)."""
        folder = self._module_path(package)
        if not folder.is_dir():
            return []
        # ``__init__`` is the package itself; ``__main__`` is its ``python -m`` entry point,
        # never something a computed name is meant to load.
        names = {p.stem for p in folder.glob("*.py")} - {"__init__", "__main__"}
        names |= {p.name for p in folder.iterdir() if p.is_dir() and p.name.isidentifier()}
        names.discard("__pycache__")
        return [f"{package}.{name}" for name in sorted(names) if name.startswith(stem)]

    def imports_in(self, path: Path) -> list[_Import]:
        if path not in self._parsed:
            parts = path.relative_to(self.src).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            module = ".".join(parts[:-1] if is_package else parts)
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (OSError, SyntaxError, ValueError) as error:
                raise DependencyError(f"{self.rel(path)}: cannot parse ({error})") from None
            self._parsed[path] = _imports(tree, module, is_package, self.rel(path))
        return self._parsed[path]

    def _data_files(self) -> dict[Path, list[Path]]:
        """Data files keyed by the folder that owns them (nearest one with Python modules)."""
        owners: dict[Path, list[Path]] = {}
        for path in sorted(self.package_dir.rglob("*")):
            relative = path.relative_to(self.package_dir).parts
            if (
                not path.is_file()
                or path.suffix in IGNORED_SUFFIXES
                or "__pycache__" in relative
                or any(part.startswith(".") for part in relative)  # editor and OS droppings
            ):
                continue
            owner = path.parent
            while owner != self.package_dir and not any(owner.glob("*.py")):
                owner = owner.parent
            owners.setdefault(owner, []).append(path)
        return owners

    def data_for(self, modules: Iterable[Path]) -> set[Path]:
        return {
            f for folder in {m.parent for m in modules} for f in self._data_owners.get(folder, [])
        }


def _describe(notebook: Path, imp: _Import, root: Path) -> str:
    module_path = Path("src", *imp.module.split("."))
    return (
        f"{_display(notebook, root)}: `{imp.statement}` ({imp.where}): no module {imp.module} "
        f"(neither {module_path.with_suffix('.py').as_posix()} nor {module_path.as_posix()}/)"
    )


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _dependencies(notebook: Path, resolver: _Resolver) -> list[str]:
    pending: list[_Import] = []
    for number, source in _code_cells(notebook):
        try:
            tree = ast.parse(source, filename=f"{notebook} cell {number}")
        except SyntaxError as error:
            raise DependencyError(
                f"{_display(notebook, resolver.root)}: cell {number}: cannot parse ({error.msg}, "
                f"line {error.lineno})"
            ) from None
        pending += _imports(tree, None, False, f"cell {number}")

    files: set[Path] = set()
    while pending:
        imp = pending.pop()
        if imp.prefix:
            package, _, stem = imp.module.rpartition(".")
            modules = resolver.children(package, stem) if package else [PACKAGE]
        else:
            # ``from pkg import name`` also imports pkg.name when that is a submodule.
            modules = [imp.module]
            modules += [
                f"{imp.module}.{n}" for n in imp.names if resolver.is_module(f"{imp.module}.{n}")
            ]
        for module in modules:
            found = resolver.files_of(module)
            if found is None:
                if imp.optional:
                    continue
                raise DependencyError(_describe(notebook, imp, resolver.root))
            for path in found:
                if path not in files:
                    files.add(path)
                    try:
                        pending += resolver.imports_in(path)
                    except DependencyError as error:
                        raise DependencyError(
                            f"{_display(notebook, resolver.root)}: {error}"
                        ) from None
    deps = {resolver.rel(p) for p in files | resolver.data_for(files)}
    return sorted(deps | set(ALWAYS))


def notebook_dependencies(notebook: Path, root: Path = REPO_ROOT) -> list[str]:
    """Files (relative to ``root``, sorted) that executing ``notebook`` depends on.

    Raises:
        DependencyError: an ``edgeiqa`` import names a module that has no file, or a notebook or
            package file cannot be read or parsed.
    """
    return _dependencies(Path(notebook), _Resolver(Path(root)))


def _make_path(path: str) -> str:
    """``path`` as a Make prerequisite; Make has no quoting for white space."""
    if any(c.isspace() for c in path):
        raise DependencyError(f"{path}: white space in a path cannot be written in a Make rule")
    return path.replace("$", "$$").replace("#", r"\#")


def make_rules(notebooks: Sequence[Path], root: Path = REPO_ROOT) -> str:
    """One Make rule per notebook, ``$(RESULTS)/<name>.ipynb: <deps>``, as the file's text."""
    resolver = _Resolver(Path(root))
    lines = [f"# Generated by src/{PACKAGE}/notebook_deps.py from the notebooks' imports."]
    for notebook in sorted(Path(n) for n in notebooks):
        deps = [_make_path(d) for d in _dependencies(notebook, resolver)]
        target = f"$(RESULTS)/{_make_path(notebook.name)}"
        lines.append(" \\\n    ".join([f"{target}:", *deps]))
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="notebook_deps", description="Print Make rules: executed notebook -> package files."
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="source notebooks (.ipynb)")
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT,
        help="repository root (holds src/edgeiqa/ and pyproject.toml)",
    )
    args = parser.parse_args(argv)
    try:
        text = make_rules(args.notebooks, args.root)
    except DependencyError as error:
        print(f"notebook_deps: error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
