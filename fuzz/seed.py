#!/usr/bin/env python3
"""Writes the first corpus of every fuzz target from the repository's own test vectors.

Run once from fuzz/ (`python3 seed.py`); the fuzzer grows the corpus from these and
`cargo fuzz cmin` keeps it small (docs/fuzzing.md). Reads only files of this repository.
"""

import glob
import hashlib
import json
import os
import re
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    directory = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(directory, exist_ok=True)
    # Named by content, as libFuzzer names what it adds.
    with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def text_blocks(markdown):
    return re.findall(r"```text\n(.*?)```", markdown, re.S)


# docs/format.md §10: the worked example's statements, signatures, records and checkpoint.
blocks = text_blocks(read("docs/format.md").decode().split("## 10. Worked example")[1])
planning_key, demolition_key, genesis_statement = (block.strip() for block in blocks[0:3])
record0 = next(block.strip() for block in blocks if block.startswith('{"accepted"'))
register_statement = next(block.strip() for block in blocks if '"kind":"item.register"' in block)
register_signature = next(block.split()[1] for block in blocks if len(block.split()) == 2)
note = next(block for block in blocks if block.startswith("salvage/"))

genesis_entry = json.loads(record0)["entry"]
register_entry = {"signatures": [{"key": demolition_key, "sig": register_signature}], "statement": json.loads(register_statement)}
record1 = {"accepted": "2026-11-23T09:30:01Z", "entry": register_entry, "prev": "f1647009ec79c1d2b63fd124775472c66ee82f85e7dac29b5b45e404b84723f8", "seq": 1}


def canonical(value):
    # Every value here is strings, objects, arrays and small integers or short decimals, for
    # which sorted keys without whitespace is RFC 8785.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


entries = [canonical(genesis_entry), canonical(register_entry)]
entries_array = "[" + ",".join(entries) + "]"
pretty = [json.dumps(json.loads(e), indent=2) for e in entries]

# JSON parsers: RFC 8785's vectors, the schemas' examples, the worked example.
jcs = sorted(glob.glob(os.path.join(ROOT, "ledger/tests/data/jcs/*/*.json")))
examples = sorted(glob.glob(os.path.join(ROOT, "schemas/examples/**/*.json"), recursive=True))[:40]
for path in jcs + examples:
    write("canonical_strict", read(path))
for data in entries + pretty + [entries_array, genesis_statement, register_statement, record0]:
    write("canonical_strict", data)

for path in sorted(glob.glob(os.path.join(ROOT, "ledger/tests/data/jcs/output/*.json"))):
    write("canonical_reader", read(path).rstrip(b"\n"))
for data in entries + [entries_array, "[" + entries[1] + "]", genesis_statement, register_statement, record0]:
    write("canonical_reader", data)

for data in entries + pretty + [entries_array]:
    write("signed_entry", data)

# Record-log segments: the flag byte (bit 0: last segment, bit 1: prepend the magic), then the
# segment; the records of the worked example in frames, whole, torn and damaged.
def frame(payload):
    payload = payload.encode()
    length = struct.pack("<I", len(payload))
    return length + struct.pack("<I", zlib.crc32(length + payload)) + payload


frames = frame(record0) + frame(canonical(record1))
segment = b"SLVGLOG1" + frames
for flags, data in [(1, segment), (0, segment), (3, frames), (1, segment[:-7]), (1, segment[:5]),
                    (1, bytes(24)), (3, frames[:-1] + b"x"), (0, segment + frames[:9])]:
    write("record_log", bytes([flags]) + data)

# Raft-log segments: the flag byte (bit 0: last segment, bit 1: prepend the version-2 magic,
# bit 2: a version-1 segment, bit 3: an acknowledged mark at 64 times the top four bits), then
# the segment. Version 2 frames are the record log's; version 1 frames' CRC covers the payload
# alone. The payload is openraft's entry JSON.
def raft_frame(entry):
    return frame(json.dumps(entry, separators=(",", ":")))


def raft_frame_v1(entry):
    payload = json.dumps(entry, separators=(",", ":")).encode()
    return struct.pack("<I", len(payload)) + struct.pack("<I", zlib.crc32(payload)) + payload


def log_id(term, index):
    return {"leader_id": {"term": term, "node_id": 7}, "index": index}


raft = [
    {"log_id": log_id(1, 1), "payload": "Blank"},
    {"log_id": log_id(1, 2), "payload": {"Normal": {"accepted": "2026-11-23T09:30:01Z", "entries": [json.loads(e) for e in entries]}}},
    {"log_id": log_id(2, 3), "payload": {"Membership": {"configs": [[7, 9]], "nodes": {"7": {"member": "regional-planning", "url": "http://10.0.0.7:8080"}, "9": {"member": "baltic-demolition", "url": "http://10.0.0.9:8080"}}}}},
]
raft_frames = b"".join(raft_frame(e) for e in raft)
raft_frames_v1 = b"".join(raft_frame_v1(e) for e in raft)
for flags, data in [(3, raft_frames), (2, raft_frames), (3, raft_frames[:-3]), (1, b"SLVGRFT2" + raft_frames),
                    (11, raft_frames[:-3]), (1 | 8 | 16, raft_frames[:40] + bytes(16) + raft_frames[56:]),
                    (5, raft_frames_v1), (5, raft_frames_v1[:-3]), (5, bytes(16)), (1, bytes(16))]:
    write("raft_frame", bytes([flags]) + data)

# Checkpoint notes: the worked example and the C2SP and Go vectors of the checkpoint tests.
write("checkpoint_note", note)
write("checkpoint_note", note.split("\n\n")[0] + "\n")
tests = read("ledger/src/checkpoint/tests.rs").decode()
for vkey in re.findall(r'"([A-Za-z.-]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+)"', tests):
    write("checkpoint_note", vkey)
sofa = ("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
        "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")
write("checkpoint_note", sofa)

# GS1 identifiers: the public examples, and the Digital Links of the ident tests.
gs1 = json.loads(read("ledger/tests/data/gs1-public-examples.json"))


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


for text in sorted(set(strings({k: v for k, v in gs1.items() if k != "about"}))):
    write("ident", text)
for path in ["ledger/src/ident/digital_link/tests.rs", "ledger/src/ident/element/tests.rs"]:
    for text in sorted(set(re.findall(r'"((?:https?://|\()[^"\\]+)"', read(path).decode()))):
        write("ident", text)
for text in ["4750001BEAM-0001", "https://resolver.example/salvage", "(8004)4750001BEAM-0001"]:
    write("ident", text)

# Inventories: the README's and the import test's.
readme = read("README.md").decode()
write("import_csv", re.search(r"(giai,name,category,mass_kg.*?\n)CSV", readme, re.S).group(1))
header = re.search(r'const HEADER: &str = "(.*?)\\n";', read("tests/tests/import_inventory.rs").decode()).group(1)
write("import_csv", header + "\n4750001BEAM-0001,HEA 200 steel beam,structural_steel,1,H87,253.2,6000,200,190,"
      "Steel S235:1.0,B,Sugar factory warehouse,R\u016bpniecības iela 2,LV,1974,yes,address\n"
      "4750001DOOR-0001,Oak door,door,1,H87,heavy,2100,900,45,Oak:0.9; Steel:0.1,B,Warehouse,,LV,1974,maybe,\n")

# Signatures: arbitrary's input is bytes it carves up; a few fixed ones start the search.
for n in range(8):
    write("signature", hashlib.sha512(b"salvage signature seed %d" % n).digest() * (1 + n % 3))
