#!/usr/bin/env python3
"""Independent Avro reader for chunkline's interoperability tests (fastavro, not avsc).

  avro_reader.py container FILE.avro   -> one JSON object per record, then a line {"writer_schema": ...}
  avro_reader.py fingerprints DIR       -> {"<kind>/vN.avsc": {"canonical": ..., "crc64": hex}} for every .avsc
  avro_reader.py single-object FILE.avsc HEX -> the record decoded from Avro single-object encoding (hex)
"""
import io
import json
import pathlib
import sys

import fastavro
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form


def main(argv):
    cmd = argv[1]
    if cmd == "container":
        with open(argv[2], "rb") as f:
            reader = fastavro.reader(f)
            for record in reader:
                print(json.dumps(record, ensure_ascii=False))
            print(json.dumps({"writer_schema": reader.writer_schema, "codec": reader.codec}))
    elif cmd == "fingerprints":
        out = {}
        for p in sorted(pathlib.Path(argv[2]).glob("*/v*.avsc")):
            schema = parse_schema(json.loads(p.read_text(encoding="utf-8")))
            canonical = to_parsing_canonical_form(schema)
            out[f"{p.parent.name}/{p.name}"] = {"canonical": canonical, "crc64": fingerprint(canonical, "CRC-64-AVRO")}
        print(json.dumps(out))
    elif cmd == "single-object":
        schema = parse_schema(json.loads(pathlib.Path(argv[2]).read_text(encoding="utf-8")))
        data = bytes.fromhex(argv[3])
        assert data[:2] == b"\xc3\x01", "marker"
        expected = fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO")
        assert data[2:10].hex() == expected, f"fingerprint {data[2:10].hex()} != {expected}"
        print(json.dumps(fastavro.schemaless_reader(io.BytesIO(data[10:]), schema), ensure_ascii=False))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
