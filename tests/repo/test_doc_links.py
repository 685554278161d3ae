"""Every file the repository names is in the repository (doc_links.py).

The first test checks the real tree; the others show on small trees what
the check catches and what it leaves alone, so it cannot pass by finding
nothing.
"""
from pathlib import Path

import doc_links

ROOT = Path(__file__).resolve().parents[2]
# Made-up names of documents that live outside the tree under test.
OUTSIDE = "CONTRACT.md"


def write_tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


def test_every_named_file_is_in_the_repository():
    missing = doc_links.missing_references(ROOT, doc_links.tracked_files(ROOT))
    assert missing == [], "\n".join(f"{file}:{line}: {name}" for file, line, name in missing)


def test_a_document_outside_the_repository_is_found(tmp_path):
    files = write_tree(tmp_path, {
        "README.md": f"The contract is {OUTSIDE}.\n",
        "src/a.hpp": "// The rule of CONTRACT \u00a73.\n",
        "docs/openapi.json": '{"description": "see BLUEPRINT \\u00a77"}\n',
        "docs/guide.md": "[setup](../docs/setup.md#steps) and src/b.hpp\n",
    })
    assert doc_links.missing_references(tmp_path, files) == [
        ("README.md", 1, OUTSIDE),
        ("docs/guide.md", 1, "../docs/setup.md"),
        ("docs/guide.md", 1, "src/b.hpp"),
        ("docs/openapi.json", 1, "BLUEPRINT.md"),
        ("src/a.hpp", 1, OUTSIDE),
    ]


def test_urls_and_files_that_exist_pass(tmp_path):
    files = write_tree(tmp_path, {
        "README.md": "See docs/API.md, tests/api/README.md and https://example.com/x/CONTRACT.md.\n",
        "docs/API.md": "[ops](OPERATIONS.md#metrics), README \u00a71, src/*.hpp, RFC 9112 \u00a76.3\n",
        "docs/OPERATIONS.md": "",
        "tests/api/README.md": "Run one file, as README.md at the root says.\n",
        "src/a.hpp": "",
    })
    assert doc_links.missing_references(tmp_path, files) == []
