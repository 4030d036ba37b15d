"""What an upload's accept list takes (files.accepts, UploadLimits.check_start): a declared
type counts only as one `type/subtype` whose file name agrees with it."""

from __future__ import annotations

import pytest

from nbchat.uploads.files import UploadLimits, UploadRejected, accepts, served_type

PDF_ONLY = ["application/pdf"]


@pytest.mark.parametrize(("name", "mime", "accept", "taken"), [
    ("report.pdf", "application/pdf", PDF_ONLY, True),
    ("page.html", "application/pdf", PDF_ONLY, False),    # the name says HTML
    ("report", "application/pdf", PDF_ONLY, False),       # the name says nothing
    ("report.pdf", "", PDF_ONLY, True),                   # undeclared: the name decides
    ("report.pdf", "text/html", PDF_ONLY, False),         # declared as another type
    ("report.pdf", "text/html", {"application/pdf": [".pdf"]}, False),
    ("notes.py", "text/x-python", {"text/plain": [".py"]}, True),   # Chainlit's dict form
    ("data.parquet", "application/vnd.apache.parquet",
     {"application/vnd.apache.parquet": [".parquet"]}, True),
    ("a.png", "image/png", ["image/*"], True),
    ("a", "image/png", ["image/*"], True),                 # no extension: as before
    ("a.html", "image/png", ["image/*"], False),
    ("a.csv", "text/csv", [".csv"], True),
    ("x.exe", "application/x-msdownload", ["*/*"], True),
])
def test_a_type_is_accepted_only_when_the_name_agrees(
        name: str, mime: str, accept: object, taken: bool) -> None:
    assert accepts(name, mime, accept) is taken  # type: ignore[arg-type]


@pytest.mark.parametrize("mime", ["application/pdf, text/html", "application/pdf;q=1",
                                  "application/pdf text/html", "pdf", "application/pdf\n"])
def test_a_declared_type_must_be_one_type_subtype(mime: str) -> None:
    with pytest.raises(UploadRejected, match="not one media type"):
        UploadLimits().check_start("report.pdf", mime, 10)


def test_a_single_type_in_any_case_is_taken() -> None:
    UploadLimits(accept=("application/pdf",)).check_start("R.PDF", "Application/PDF", 10)


def test_the_refusal_says_what_is_accepted_and_why() -> None:
    with pytest.raises(UploadRejected) as refused:
        UploadLimits(accept=("application/pdf",)).check_start("page.html", "application/pdf", 1)
    assert "'page.html'" in str(refused.value)
    assert "accepted: application/pdf" in str(refused.value)
    assert "extension" in str(refused.value)


@pytest.mark.parametrize(("declared", "served"), [
    ("text/javascript", "application/octet-stream"),
    ("application/javascript", "application/octet-stream"),
    ("application/x-javascript", "application/octet-stream"),
    ("text/ecmascript", "application/octet-stream"),
    ("text/javascript1.5", "application/octet-stream"),
    ("text/jscript", "application/octet-stream"),
    ("application/wasm", "application/octet-stream"),
    ("text/css", "application/octet-stream"),
    ("TEXT/JAVASCRIPT", "application/octet-stream"),
    ("application/pdf, text/html", "application/octet-stream"),
    (None, "application/octet-stream"),
    ("application/pdf", "application/pdf"),
    ("image/png", "image/png"),
    ("application/json", "application/json"),
])
def test_bytes_are_never_served_with_a_script_type(declared: str | None, served: str) -> None:
    assert served_type(declared) == served
