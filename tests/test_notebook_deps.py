"""Which package files a notebook depends on (src/edgeiqa/notebook_deps.py).

Most tests build a tiny fake repository in tmp_path (src/edgeiqa/... and a notebook), so they say
exactly which imports are followed; the last ones read the real notebooks without writing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeiqa.notebook_deps import DependencyError, main, make_rules, notebook_dependencies

REPO = Path(__file__).resolve().parents[1]


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def write_notebook(path: Path, *cells: str) -> Path:
    """A notebook whose code cells are ``cells``, with a markdown cell that must be ignored."""
    notebook = {
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["import edgeiqa.nowhere"]}]
        + [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": source.splitlines(keepends=True),
            }
            for source in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook))
    return path


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A fake repository: a package with plain modules, a subpackage and an unrelated module."""
    write_tree(
        tmp_path,
        {
            "pyproject.toml": "",
            "src/edgeiqa/__init__.py": '"""fake"""\n',
            "src/edgeiqa/top.py": "from edgeiqa.middle import helper\n",
            "src/edgeiqa/middle.py": "from . import bottom\n\ndef helper():\n    pass\n",
            "src/edgeiqa/bottom.py": "import numpy\n",
            "src/edgeiqa/lazy_user.py": (
                "def later():\n    from edgeiqa.lazy import thing\n    return thing\n"
            ),
            "src/edgeiqa/lazy.py": "thing = 1\n",
            "src/edgeiqa/unrelated.py": "import edgeiqa.top\n",
            "src/edgeiqa/pkg/__init__.py": "from .impl import function\n",
            "src/edgeiqa/pkg/impl.py": "def function():\n    pass\n",
            "src/edgeiqa/pkg/other.py": "from ..unrelated import *\n",
            "src/edgeiqa/pkg/table.json": "{}\n",
        },
    )
    return tmp_path


def deps(repo: Path, *cells: str) -> list[str]:
    return notebook_dependencies(write_notebook(repo / "notebooks" / "nb.ipynb", *cells), repo)


def test_transitive_imports_are_followed(repo):
    assert deps(repo, "import pandas\nimport edgeiqa.top") == [
        "pyproject.toml",
        "src/edgeiqa/__init__.py",
        "src/edgeiqa/bottom.py",  # reached through middle's relative import
        "src/edgeiqa/middle.py",
        "src/edgeiqa/top.py",
    ]


def test_import_inside_a_function_is_followed(repo):
    found = deps(repo, "def f():\n    from edgeiqa import lazy_user\n    return lazy_user.later()")
    assert "src/edgeiqa/lazy_user.py" in found
    assert "src/edgeiqa/lazy.py" in found  # imported only inside lazy_user.later()


def test_attribute_import_resolves_to_the_package_init(repo):
    found = deps(repo, "from edgeiqa.pkg import function")
    # ``function`` is no submodule: the dependency is pkg/__init__.py and what it imports, plus
    # the data file in that folder; the sibling module pkg/other.py is not imported.
    assert found == [
        "pyproject.toml",
        "src/edgeiqa/__init__.py",
        "src/edgeiqa/pkg/__init__.py",
        "src/edgeiqa/pkg/impl.py",
        "src/edgeiqa/pkg/table.json",
    ]


def test_from_package_import_submodule_includes_the_submodule(repo):
    found = deps(repo, "from edgeiqa.pkg import other")
    assert "src/edgeiqa/pkg/other.py" in found
    assert "src/edgeiqa/unrelated.py" in found  # other.py: from ..unrelated import *
    assert "src/edgeiqa/top.py" in found  # and on through unrelated.py


def test_data_files_follow_the_modules_of_their_folder(repo):
    assert "src/edgeiqa/pkg/table.json" not in deps(repo, "import edgeiqa.top")


def test_computed_module_name_depends_on_every_matching_module(repo):
    write_tree(
        repo,
        {
            "src/edgeiqa/loaders/__init__.py": "",
            "src/edgeiqa/loaders/__main__.py": "import edgeiqa.lazy\n",
            "src/edgeiqa/loaders/alpha.py": "",
            "src/edgeiqa/loaders/beta.py": "",
            "src/edgeiqa/registry.py": (
                "import importlib\n\ndef load(name):\n"
                '    return importlib.import_module(f"edgeiqa.loaders.{name}")\n'
            ),
        },
    )
    found = deps(repo, "from edgeiqa.registry import load")
    assert {"src/edgeiqa/loaders/alpha.py", "src/edgeiqa/loaders/beta.py"} <= set(found)
    assert "src/edgeiqa/loaders/__main__.py" not in found  # an entry point, not a loader


def test_ipython_magics_do_not_stop_parsing(repo):
    found = deps(repo, "%matplotlib inline\n!ls\nimport edgeiqa.lazy", "%%bash\necho hi")
    assert "src/edgeiqa/lazy.py" in found


def test_missing_module_is_a_one_line_error_naming_notebook_and_import(repo):
    with pytest.raises(DependencyError) as raised:
        deps(repo, "from edgeiqa.gone import x")
    message = str(raised.value)
    assert "\n" not in message
    assert "notebooks/nb.ipynb" in message
    assert "from edgeiqa.gone import x" in message


def test_missing_module_deep_in_the_package_names_the_importing_file(repo, capsys):
    write_tree(repo, {"src/edgeiqa/lazy.py": "def f():\n    import edgeiqa.moved.away\n"})
    notebook = write_notebook(repo / "notebooks" / "nb.ipynb", "import edgeiqa.lazy")
    assert main([str(notebook), "--root", str(repo)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "notebooks/nb.ipynb" in err
    assert "import edgeiqa.moved.away" in err
    assert "src/edgeiqa/lazy.py" in err


def test_rules_use_the_results_variable_and_sorted_relative_paths(repo):
    second = write_notebook(repo / "notebooks" / "02_b.ipynb", "import edgeiqa.lazy")
    first = write_notebook(repo / "notebooks" / "01_a.ipynb", "import edgeiqa.top")
    text = make_rules([second, first], repo)
    assert text == make_rules([first, second], repo)  # deterministic whatever the order
    lines = text.replace("\\\n", " ").splitlines()  # join continued lines
    assert [" ".join(line.split()) for line in lines if not line.startswith("#")] == [
        "$(RESULTS)/01_a.ipynb: pyproject.toml src/edgeiqa/__init__.py"
        " src/edgeiqa/bottom.py src/edgeiqa/middle.py src/edgeiqa/top.py",
        "$(RESULTS)/02_b.ipynb: pyproject.toml src/edgeiqa/__init__.py src/edgeiqa/lazy.py",
    ]


def test_real_notebooks_depend_only_on_what_they_import():
    nb = REPO / "notebooks"
    edges = notebook_dependencies(nb / "02_sobel_edge_maps.ipynb")
    comparison = notebook_dependencies(nb / "06_comparison_tables.ipynb")
    regression = notebook_dependencies(nb / "05_regression.ipynb")

    assert "src/edgeiqa/plots/edges.py" in edges
    assert "src/edgeiqa/experiments/comparison.py" not in edges
    assert "src/edgeiqa/plots/regression.py" not in edges
    assert "src/edgeiqa/plots/comparison.py" in comparison
    assert "src/edgeiqa/experiments/comparison.py" in comparison  # via plots/comparison.py
    assert "src/edgeiqa/plots/regression.py" in regression
    # load_dataset reaches the loaders only through importlib, and calibration reads its json.
    assert {
        "src/edgeiqa/data/live_subset.py",
        "src/edgeiqa/data/synthetic_calibration.json",
    } <= set(edges)
