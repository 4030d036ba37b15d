"""nbchat.export: a stored thread as a notebook, an HTML page and a pytest file."""

from __future__ import annotations

import base64
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from nbchat import export, history
from workbench.conftest import Recorded


def test_to_notebook_makes_a_cell_per_message_and_collapsed_steps(recorded: Recorded,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "chat.ipynb"
    nb = export.to_notebook(recorded.thread_id, out, app_dir=recorded.folder)
    assert nbformat.read(out, as_version=4) == nb  # type: ignore[no-untyped-call]
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert "You said **hello** (v1)" in markdown[2].source  # title, "hello", the reply
    assert "👍" in markdown[2].source
    assert markdown[1].metadata["nbchat"]["type"] == "user_message"
    steps = [c for c in nb.cells if c.cell_type == "code" and "stepId" in c.metadata["nbchat"]]
    lookup = steps[0]
    assert lookup.source.splitlines()[:3] == ["# tool step: lookup", "# input:", "#   hello"]
    assert lookup.outputs[0]["text"] == "found hello"
    assert lookup.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert steps[1].source.startswith("#   llm step: model")  # nested under lookup
    assert steps[1].metadata["nbchat"]["generation"]["tokenCount"] == 5
    elements = [c for c in nb.cells if "elementsFor" in c.metadata.get("nbchat", {})]
    assert len(elements) == 1
    image, text = elements[0].outputs
    assert base64.b64decode(image["data"]["image/png"]).startswith(b"\x89PNG")
    assert text["data"]["text/plain"] == "some notes"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_to_html_is_one_self_contained_sanitised_page(recorded: Recorded,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "chat.html"
    page = export.to_html(recorded.thread_id, out, url=recorded.url, app_dir=recorded.folder)
    assert out.read_text(encoding="utf-8") == page
    parser = _Tags()
    parser.feed(page)
    names = [t for t, _ in parser.tags]
    assert "script" not in names  # the message's <script> is text, not a tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    hrefs = [a.get("href") or "" for t, a in parser.tags if t == "a"]
    assert not any(h.lower().startswith("javascript:") for h in hrefs)
    # Nothing is loaded from elsewhere: every src is a data: URL, and the CSP says none.
    sources = [a["src"] for t, a in parser.tags if "src" in a]
    assert sources
    assert all(str(s).startswith("data:image/png;base64,") for s in sources)
    assert "default-src 'none'" in page
    assert "<strong>hello</strong>" in page  # markdown rendered
    assert names.count("details") == 4  # lookup and model, for hello and the last prompt
    assert "some notes" in page


def test_to_test_writes_a_test_that_passes_then_fails_when_the_app_changes(
        recorded: Recorded) -> None:
    test_file = recorded.folder / "tests" / "test_promoted.py"
    test_file.parent.mkdir()
    export.to_test(recorded.thread_id, test_file, app=recorded.app, app_dir=recorded.folder)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               str(test_file)], capture_output=True, text=True,
                              cwd=recorded.folder, check=False)

    passed = run()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    recorded.app.write_text(recorded.app.read_text().replace('VERSION = "v1"',
                                                             'VERSION = "v2"'))
    failed = run()
    assert failed.returncode == 1
    assert "turn 1 ('hello'): the reply changed" in failed.stdout


def loose(new: str, old: str) -> bool:
    """A user check: the same reply up to its version tag."""
    return new.split(" (v")[0] == old.split(" (v")[0]


def test_to_test_with_a_user_check(recorded: Recorded, tmp_path: Path) -> None:
    stored = recorded
    thread = history.thread(stored.thread_id, stored.folder)  # a thread dict works too
    test_file = export.to_test(thread, tmp_path / "test_loose.py", app=stored.app, check=loose)
    source = test_file.read_text()
    assert "from workbench.test_export import loose" in source
    stored.app.write_text(stored.app.read_text().replace('VERSION = "v1"', 'VERSION = "v2"'))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(test_file)], capture_output=True, text=True, check=False,
                            cwd=Path(__file__).parents[1])  # workbench.* imports from tests/
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_input_is_refused_clearly(recorded: Recorded, tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no stored thread 'nope'"):
        export.to_html("nope", app_dir=recorded.folder)
    with pytest.raises(ValueError, match=r"writes a \.py file"):
        export.to_test(recorded.thread_id, tmp_path / "t.txt", app=recorded.app,
                       app_dir=recorded.folder)
    with pytest.raises(TypeError, match="lambda"):
        export.to_test(recorded.thread_id, tmp_path / "t.py", app=recorded.app,
                       app_dir=recorded.folder, check=lambda new, old: True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export.to_test(recorded.thread_id, tmp_path / "t.py", app=tmp_path / "none.py",
                       app_dir=recorded.folder)


def test_the_export_command(recorded: Recorded, tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nbchat.cli", "export", *args,
                               "--app-dir", str(recorded.folder)],
                              capture_output=True, text=True, timeout=60, check=False)

    page = cli(recorded.thread_id, str(tmp_path / "c.html"))
    assert page.returncode == 0, page.stderr
    assert "You said <strong>hello</strong>" in (tmp_path / "c.html").read_text()
    assert cli(recorded.thread_id, str(tmp_path / "c.ipynb")).returncode == 0
    assert nbformat.read(tmp_path / "c.ipynb", as_version=4).cells  # type: ignore[no-untyped-call]
    no_app = cli(recorded.thread_id, str(tmp_path / "t.py"))
    assert no_app.returncode == 1
    assert "--app APP" in no_app.stderr
    missing = cli("nope", str(tmp_path / "c.html"))
    assert missing.returncode == 1
    assert "no stored thread 'nope'" in missing.stderr


def test_a_check_defined_in_a_notebook_cell_is_copied_into_the_test(
        recorded: Recorded, tmp_path: Path) -> None:
    def same_start(new: str, old: str) -> bool:
        return new[:3] == old[:3]

    test_file = export.to_test(recorded.thread_id, tmp_path / "test_copied.py",
                               app=recorded.app, app_dir=recorded.folder, check=same_start)
    source = test_file.read_text()
    assert "def same_start(new: str, old: str) -> bool:" in source
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(test_file)], capture_output=True, text=True, check=False,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
