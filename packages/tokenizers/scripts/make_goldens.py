#!/usr/bin/env python3
"""Writes golden token ids and offsets for every fixture file, under every shipped tokenizer.

For each file under test/fixtures/corpus (recursively, sorted; SOURCES.md, LICENSES/ and dotfiles are
skipped) and each tokenizer in packages/tokenizers/assets/<name>/tokenizer.json, this reads the file as
UTF-8 (a leading BOM is stripped), runs Hugging Face `tokenizers` (the Rust library's Python binding):
`Tokenizer.from_file(...).encode(text, add_special_tokens=False)`, and writes
test/fixtures/goldens/<name>/<relative path>.json as one line of compact JSON:

    {"file": relpath, "tokenizer": name, "ids": [...], "offsets": [[start, end], ...]}

Offsets are the ones Python's `tokenizers` returns for a `str`: Unicode code point indices into the
text (not UTF-16 code units, not bytes). Golden files of fixtures that no longer exist are removed.

Usage (from the repo root): npm run goldens
   or: python3 packages/tokenizers/scripts/make_goldens.py
Requires: pip install -r packages/tokenizers/scripts/requirements-dev.txt  (tokenizers==0.23.3)
"""
import json
import pathlib
import sys

from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[3]
ASSETS = ROOT / "packages" / "tokenizers" / "assets"
CORPUS = ROOT / "test" / "fixtures" / "corpus"
GOLDENS = ROOT / "test" / "fixtures" / "goldens"
TOKENIZERS = ["bert-base-uncased", "qwen3"]


def fixture_files() -> list[str]:
    out = []
    for p in CORPUS.rglob("*"):
        rel = p.relative_to(CORPUS)
        if not p.is_file() or rel.parts[0] == "LICENSES" or rel.as_posix() == "SOURCES.md":
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        out.append(rel.as_posix())
    return sorted(out)


def read_text(path: pathlib.Path) -> str:
    text = path.read_bytes().decode("utf-8")  # strict: a fixture that is not valid UTF-8 is an error
    return text[1:] if text.startswith("\ufeff") else text


def self_check(bert: Tokenizer) -> None:
    ids = bert.encode("Hello, my dog is cute", add_special_tokens=True).ids
    expected = [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]
    assert ids == expected, f"bert-base-uncased self-check failed: {ids} != {expected}"


def main() -> int:
    files = fixture_files()
    if not files:
        print(f"no fixtures under {CORPUS}", file=sys.stderr)
        return 1
    texts = {rel: read_text(CORPUS / rel) for rel in files}
    total_bytes = 0
    for name in TOKENIZERS:
        tok = Tokenizer.from_file(str(ASSETS / name / "tokenizer.json"))
        if name == "bert-base-uncased":
            self_check(tok)
        out_dir = GOLDENS / name
        written = set()
        n_tokens = 0
        for rel in files:
            text = texts[rel]
            enc = tok.encode(text, add_special_tokens=False)
            offsets = [list(o) for o in enc.offsets]
            assert len(enc.ids) == len(offsets)
            assert all(0 <= s <= e <= len(text) for s, e in offsets), f"{name} {rel}: offset out of range"
            record = {"file": rel, "tokenizer": name, "ids": list(enc.ids), "offsets": offsets}
            dest = out_dir / (rel + ".json")
            dest.parent.mkdir(parents=True, exist_ok=True)
            data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
            if not dest.exists() or dest.read_bytes() != data:
                dest.write_bytes(data)
            written.add(dest)
            n_tokens += len(enc.ids)
            total_bytes += len(data)
        # Remove goldens of fixtures that were deleted or renamed.
        for stale in sorted(out_dir.rglob("*.json")):
            if stale not in written:
                stale.unlink()
        for d in sorted((p for p in out_dir.rglob("*") if p.is_dir()), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()
        print(f"{name}: {len(files)} files, {n_tokens} tokens")
    print(f"goldens: {total_bytes / 1e6:.2f} MB in {GOLDENS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
