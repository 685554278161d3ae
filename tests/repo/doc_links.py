"""Finds the files a repository's files name that the repository lacks.

A newcomer who clones the project must be able to follow every reference to
a document or a file. Three kinds of reference are read in every tracked
text file:

- a path ending in `.md` (`docs/API.md`, `README.md`, `../OPERATIONS.md#x`);
- a document cited by a bare upper-case name followed by a section sign
  (or by JSON's escape of it), which stands for that name plus `.md`;
- a path that starts with one of the repository's own top-level folders
  (`docs/openapi.json`, `tests/api/invariants.py`, `migrations/*.sql`; a
  glob must match at least one file).

A path counts as present when it exists relative to the repository root or
to the referencing file's folder. URLs are not repository references and
are skipped, and so are the fuzz corpora (bytes for a fuzzer, not prose)
and this folder (the checker and its tests, whose examples are made up).

Run as a script (`python3 tests/repo/doc_links.py [ROOT]`) it prints each
missing reference as `file:line: name` and exits 1 if there is any.
"""
import re
import subprocess
import sys
from pathlib import Path

URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
MARKDOWN_PATH = re.compile(r"(?<![\w./-])((?:\.{1,2}/)?(?:[\w.-]+/)*[\w-][\w.-]*\.md)(?![\w-])")
SECTION_CITATION = re.compile(r"\b([A-Z][A-Z0-9_]+)\s*(?:§|\\u00a7)")
NOT_PROSE = ("fuzz/corpus/", "tests/repo/")


def tracked_files(root):
    listing = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True,
                             capture_output=True).stdout
    return [name for name in listing.decode().split("\0") if name]


def folder_path_pattern(files):
    """Paths that start with a top-level folder holding tracked files."""
    folders = sorted({name.split("/", 1)[0] for name in files if "/" in name})
    alternatives = "|".join(re.escape(folder) for folder in folders)
    return re.compile(rf"(?<![\w./-])((?:{alternatives})/[\w./*-]*[\w*])")


def references(line, folder_paths):
    """The file names one line refers to, URLs left out."""
    text = URL.sub(" ", line)
    names = [match.group(1) for match in MARKDOWN_PATH.finditer(text)]
    names += [match.group(1) + ".md" for match in SECTION_CITATION.finditer(text)]
    names += [match.group(1) for match in folder_paths.finditer(text)]
    return names


def present(base, path):
    if "*" in path:
        return any(base.glob(path))
    return (base / path).exists()


def exists(root, referrer, path):
    return present(root, path) or present((root / referrer).parent, path)


def missing_references(root, files):
    """(file, line number, name) for every reference to an absent file."""
    root = Path(root)
    folder_paths = folder_path_pattern(files)
    missing = []
    for relative in files:
        if relative.startswith(NOT_PROSE):
            continue
        try:
            text = (root / relative).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary data, or a submodule or deleted file git still lists
        for number, line in enumerate(text.splitlines(), start=1):
            for name in references(line, folder_paths):
                if not exists(root, relative, name):
                    missing.append((relative, number, name))
    return missing


def main(argv):
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[2])
    missing = missing_references(root, tracked_files(root))
    for relative, number, name in missing:
        print(f"{relative}:{number}: names {name}, which is not in the repository")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
