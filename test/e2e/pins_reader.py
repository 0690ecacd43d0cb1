#!/usr/bin/env python3
"""pins_reader.py: an independent reader of pins boards (api_version 1), written
for tarn's tests from shared/ref/pins-board-format.md, with the standard library
only. It reads a board the way R's and Python's pins do and fails loudly on
anything either would trip over:

  - the board root holds only pin folders and _pins.yaml; a pin folder holds
    only version folders; a version folder only data.txt and <pin>.<type>;
  - version folders are YYYYMMDDTHHMMSSZ-<5 hex> and re-render to themselves
    (Python's check), the hash part being the first 5 hex digits of pin_hash;
  - data.txt is YAML read with YAML 1.1 scalar resolution (as R's yaml does:
    y/n/yes/no/on/off are booleans, 1e3 and 0x1f are numbers), has every
    field Python and R need, with the right types, and its file_size and
    pin_hash (XXH64, seed 0, computed here in pure Python) match the file;
  - _pins.yaml maps every pin name (as a string) to its version folders,
    oldest first, each "<pin>/<version>/".

usage: pins_reader.py BOARD [--expect PIN=VERSIONS ...] [--json]
       pins_reader.py --selftest
Exit status 0 when the board reads cleanly; 1 with one line per problem.
"""
import datetime
import json
import os
import re
import struct
import sys

# ---- XXH64 (the algorithm as specified by xxHash; seed 0) ----

P1 = 0x9E3779B185EBCA87
P2 = 0xC2B2AE3D27D4EB4F
P3 = 0x165667B19E3779F9
P4 = 0x85EBCA77C2B2AE63
P5 = 0x27D4EB2F165667C5
M = (1 << 64) - 1


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def _round(acc, lane):
    acc = (acc + lane * P2) & M
    return (_rotl(acc, 31) * P1) & M


def _merge(acc, val):
    acc ^= _round(0, val)
    return (acc * P1 + P4) & M


def xxh64(data, seed=0):
    n = len(data)
    i = 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed & M, (seed - P1) & M]
        while i + 32 <= n:
            lanes = struct.unpack_from("<4Q", data, i)
            v = [_round(v[k], lanes[k]) for k in range(4)]
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M
        for k in range(4):
            h = _merge(h, v[k])
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h ^= _round(0, struct.unpack_from("<Q", data, i)[0])
        h = (_rotl(h, 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from("<I", data, i)[0] * P1) & M
        h = (_rotl(h, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M
        h = (_rotl(h, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    h ^= h >> 32
    return "%016x" % h


# ---- a YAML reader for the block subset pins writes ----

BOOL11 = re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
NULL11 = re.compile(r"^(~|null|Null|NULL|)$")
INT11 = re.compile(r"^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|"
                   r"[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$")
FLOAT11 = re.compile(r"^([-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|"
                     r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")
FLOAT12 = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")


class Plain(str):
    """A plain (unquoted) scalar, resolved later."""


def resolve(s):
    """What a YAML 1.1 reader such as R's makes of a plain scalar."""
    if not isinstance(s, Plain):
        return str(s)
    if NULL11.match(s):
        return None
    if BOOL11.match(s):
        return s.lower() in ("y", "yes", "true", "on")
    if INT11.match(s):
        if re.match(r"^[-+]?(0|[1-9][0-9_]*)$", s):
            return int(s.replace("_", ""))
        return ("int", s)   # octal, hex, binary, sexagesimal: a number all the same
    if FLOAT11.match(s) or FLOAT12.match(s):
        return ("float", s)
    if TIMESTAMP.match(s):
        return ("timestamp", s)
    return str(s)


class YamlError(Exception):
    pass


def _strip_comment(line):
    out, q = [], None
    for i, c in enumerate(line):
        if q:
            if c == q:
                q = None
        elif c in "'\"":
            q = c
        elif c == "#" and (i == 0 or line[i - 1] == " "):
            break
        out.append(c)
    return "".join(out).rstrip()


def _scalar(text, lines, pos):
    """Parse a scalar starting at `text`; quoted ones may continue on the
    following lines (folded). Returns (value, rest of line, next pos)."""
    if text.startswith("'"):
        buf, i = [], 1
        while True:
            while i < len(text):
                if text[i] == "'":
                    if text[i + 1:i + 2] == "'":
                        buf.append("'")
                        i += 2
                        continue
                    return "".join(buf), text[i + 1:], pos
                buf.append(text[i])
                i += 1
            # folded continuation: a line break is a space, an empty line a newline
            if pos >= len(lines):
                raise YamlError("unterminated single-quoted scalar")
            nxt = lines[pos].strip()
            pos += 1
            if nxt == "":
                buf.append("\n")
                text, i = "", 0
                continue
            if buf and buf[-1] != "\n":
                buf.append(" ")
            text, i = nxt, 0
    if text.startswith('"'):
        buf, i = [], 1
        esc = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "0": "\0", "r": "\r"}
        while True:
            while i < len(text):
                c = text[i]
                if c == "\\" and i + 1 < len(text):
                    n = text[i + 1]
                    if n in esc:
                        buf.append(esc[n])
                        i += 2
                    elif n in "xuU":
                        width = {"x": 2, "u": 4, "U": 8}[n]
                        buf.append(chr(int(text[i + 2:i + 2 + width], 16)))
                        i += 2 + width
                    else:
                        raise YamlError("unknown escape \\%s" % n)
                    continue
                if c == '"':
                    return "".join(buf), text[i + 1:], pos
                buf.append(c)
                i += 1
            if pos >= len(lines):
                raise YamlError("unterminated double-quoted scalar")
            nxt = lines[pos].strip()
            pos += 1
            if text.endswith("\\"):
                buf.pop() if buf and buf[-1] == "\\" else None
            elif nxt == "":
                buf.append("\n")
            else:
                buf.append(" ")
            text, i = nxt, 0
    return Plain(text.strip()), "", pos


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _key(text, lines, pos):
    """Split 'key: rest' with a possibly quoted key."""
    if text[:1] in "'\"":
        key, rest, pos = _scalar(text, lines, pos)
        if not rest.startswith(":"):
            raise YamlError("expected ':' after key %r" % key)
        return key, rest[1:].strip(), pos
    m = re.match(r"^([^:]*?):(\s|$)", text)
    if not m:
        raise YamlError("expected 'key: value' in %r" % text)
    return Plain(m.group(1)), text[m.end():].strip(), pos


def _block(lines, pos, indent):
    line = lines[pos]
    if line.strip() == "{}":
        return {}, pos + 1
    if line.strip() == "[]":
        return [], pos + 1
    if line[indent:].startswith("-"):
        return _seq(lines, pos, indent)
    return _map(lines, pos, indent)


def _value(rest, lines, pos, indent, seq_ok):
    """The value after 'key:' or '- ': inline, or a nested block."""
    if rest:
        if rest in ("{}", "[]"):
            return ({} if rest == "{}" else []), pos
        val, tail, pos = _scalar(rest, lines, pos)
        if tail.strip():
            raise YamlError("unexpected %r after a value" % tail)
        return val, pos
    pos = _skip(lines, pos)
    if pos < len(lines):
        nxt = _indent(lines[pos])
        if nxt > indent or (seq_ok and nxt == indent and lines[pos][nxt:].startswith("- ")):
            return _block(lines, pos, nxt)
    return Plain(""), pos


def _skip(lines, pos):
    while pos < len(lines) and not lines[pos].strip():
        pos += 1
    return pos


def _map(lines, pos, indent):
    out = {}
    while True:
        pos = _skip(lines, pos)
        if pos >= len(lines) or _indent(lines[pos]) != indent or lines[pos][indent:].startswith("- "):
            break
        key, rest, pos = _key(lines[pos][indent:], lines, pos + 1)
        rkey = resolve(key)
        if rkey in out:
            raise YamlError("duplicate key %r" % (rkey,))
        out[rkey], pos = _value(rest, lines, pos, indent, True)
    return out, pos


def _seq(lines, pos, indent):
    out = []
    while True:
        pos = _skip(lines, pos)
        if pos >= len(lines) or _indent(lines[pos]) != indent or not lines[pos][indent:].startswith("-"):
            break
        rest = lines[pos][indent + 1:].strip()
        val, pos = _value(rest, lines, pos + 1, indent, False)
        out.append(val)
    return out, pos


def _resolve_tree(v):
    if isinstance(v, dict):
        return {k: _resolve_tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_resolve_tree(x) for x in v]
    return resolve(v)


def yaml_load(text):
    lines = [_strip_comment(l) for l in text.split("\n")]
    lines = ["" if l.strip() in ("---", "...") else l for l in lines]
    start = _skip(lines, 0)
    if start == len(lines):
        return None
    tree, pos = _block(lines, start, _indent(lines[start]))
    if _skip(lines, pos) != len(lines):
        raise YamlError("cannot read line %r" % lines[pos])
    return _resolve_tree(tree)


# ---- the board ----

VERSION_RE = re.compile(r"^([0-9]{8}T[0-9]{6}Z)-([0-9a-f]{5})$")
TYPES = {"csv", "parquet", "arrow", "json", "rds", "qs", "qs2", "joblib", "pickle", "file"}


class Board:
    def __init__(self, path):
        self.path = path
        self.problems = []
        self.pins = {}          # name -> [version, ...] oldest first
        self.meta = {}          # (pin, version) -> data.txt dict

    def bad(self, msg):
        self.problems.append(msg)

    def check_version_name(self, pin, v):
        m = VERSION_RE.match(v)
        if not m:
            self.bad("%s/%s: version folder is not YYYYMMDDTHHMMSSZ-<5 hex>" % (pin, v))
            return None
        created = datetime.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ")
        if created.strftime("%Y%m%dT%H%M%SZ") + "-" + m.group(2) != v:
            self.bad("%s/%s: does not re-render to itself (Python raises ValueError)" % (pin, v))
        return m

    def check_meta(self, pin, v, m, meta, files):
        where = "%s/%s/data.txt" % (pin, v)
        need = {"file": str, "file_size": int, "pin_hash": str, "type": str, "created": str,
                "api_version": (int, float)}
        for k, t in need.items():
            if k not in meta:
                self.bad("%s: no %s" % (where, k))
            elif not isinstance(meta[k], t) or isinstance(meta[k], bool):
                self.bad("%s: %s is %r, which a YAML 1.1 reader does not take for a %s" %
                         (where, k, meta[k], t))
        for k in ("description", "title"):
            if k not in meta:
                self.bad("%s: no %s (Python's Meta needs it)" % (where, k))
            elif meta[k] is not None and not isinstance(meta[k], str):
                self.bad("%s: %s is %r, not text" % (where, k, meta[k]))
        if self.problems:
            return
        if meta["api_version"] != 1:
            self.bad("%s: api_version %r is not 1" % (where, meta["api_version"]))
        if meta["type"] not in TYPES:
            self.bad("%s: unknown type %r" % (where, meta["type"]))
        if meta["created"] != m.group(1):
            self.bad("%s: created %s differs from the folder's %s" % (where, meta["created"], m.group(1)))
        if not re.match(r"^[0-9a-f]{16}$", meta["pin_hash"]):
            self.bad("%s: pin_hash %r is not 16 lowercase hex digits" % (where, meta["pin_hash"]))
        if meta["pin_hash"][:5] != m.group(2):
            self.bad("%s: folder hash %s is not the start of pin_hash %s" % (where, m.group(2), meta["pin_hash"]))
        want = "%s.%s" % (pin, meta["type"])
        if meta["file"] != want:
            self.bad("%s: file %r is not %r (R picks the file whose extension is the type)" %
                     (where, meta["file"], want))
        extra = sorted(set(files) - {"data.txt", meta["file"]})
        if extra:
            self.bad("%s/%s: unexpected files %s" % (pin, v, extra))
        self.check_file(pin, v, meta)

    def check_file(self, pin, v, meta):
        p = os.path.join(self.path, pin, v, meta["file"])
        if not os.path.isfile(p):
            self.bad("%s/%s: data file %s is missing" % (pin, v, meta["file"]))
            return
        data = open(p, "rb").read()
        if len(data) != meta["file_size"]:
            self.bad("%s/%s: file_size %d but the file has %d bytes" % (pin, v, meta["file_size"], len(data)))
        h = xxh64(data)
        if h != meta["pin_hash"]:
            self.bad("%s/%s: pin_hash %s but XXH64 of the file is %s" % (pin, v, meta["pin_hash"], h))

    def read_version(self, pin, v):
        m = self.check_version_name(pin, v)
        vdir = os.path.join(self.path, pin, v)
        files = os.listdir(vdir)
        if "data.txt" not in files:
            self.bad("%s/%s: no data.txt" % (pin, v))
            return
        try:
            meta = yaml_load(open(os.path.join(vdir, "data.txt"), encoding="utf-8").read())
        except (YamlError, ValueError) as e:
            self.bad("%s/%s/data.txt: not readable YAML: %s" % (pin, v, e))
            return
        if not isinstance(meta, dict):
            self.bad("%s/%s/data.txt: not a mapping" % (pin, v))
            return
        self.meta[(pin, v)] = meta
        if m:
            self.check_meta(pin, v, m, meta, files)

    def read_pin(self, pin):
        pdir = os.path.join(self.path, pin)
        versions = []
        for v in sorted(os.listdir(pdir)):
            if not os.path.isdir(os.path.join(pdir, v)) or os.path.islink(os.path.join(pdir, v)):
                self.bad("%s/%s: a stray entry in a pin folder becomes a bogus version" % (pin, v))
                continue
            versions.append(v)
            self.read_version(pin, v)
        if not versions:
            self.bad("%s: pin without versions" % pin)
        self.pins[pin] = versions

    def read_manifest(self):
        p = os.path.join(self.path, "_pins.yaml")
        if not os.path.isfile(p):
            self.bad("_pins.yaml is missing")
            return
        try:
            man = yaml_load(open(p, encoding="utf-8").read()) or {}
        except (YamlError, ValueError) as e:
            self.bad("_pins.yaml: not readable YAML: %s" % e)
            return
        if not isinstance(man, dict):
            self.bad("_pins.yaml is not a mapping")
            return
        for k in man:
            if not isinstance(k, str):
                self.bad("_pins.yaml: key %r is not a string (YAML 1.1 misreads an unquoted name)" % (k,))
        names = {k for k in man if isinstance(k, str)}
        if names != set(self.pins):
            self.bad("_pins.yaml lists %s, the board has %s" % (sorted(names), sorted(self.pins)))
        for pin, versions in self.pins.items():
            want = ["%s/%s/" % (pin, v) for v in versions]
            if man.get(pin) != want:
                self.bad("_pins.yaml: %s lists %r, want %r" % (pin, man.get(pin), want))

    def read(self):
        if not os.path.isdir(self.path):
            self.bad("no board at %s" % self.path)
            return self
        for name in sorted(os.listdir(self.path)):
            full = os.path.join(self.path, name)
            if name == "_pins.yaml":
                continue
            if not os.path.isdir(full) or os.path.islink(full) or name.startswith("."):
                self.bad("%s: only pin folders and _pins.yaml may sit at the board root "
                         "(Python's pin_list would list it as a pin)" % name)
                continue
            self.read_pin(name)
        self.read_manifest()
        return self


def selftest():
    probs = []
    # Known answers: the empty input, and the pins-r fixture x.json whose pin_hash is c3943ca5a9aab2df.
    if xxh64(b"") != "ef46db3751d8e999":
        probs.append("xxh64('') = %s" % xxh64(b""))
    if xxh64(b"[1,2,3,4,5,6,7,8,9,10]\n") != "c3943ca5a9aab2df":
        probs.append("xxh64(x.json) = %s" % xxh64(b"[1,2,3,4,5,6,7,8,9,10]\n"))
    big = bytes(range(256)) * 3
    if len({xxh64(big), xxh64(big[:-1]), xxh64(big[1:])}) != 3:
        probs.append("xxh64 collides on shifted input")
    cases = {"y": True, "no": False, "1e3": ("float", "1e3"), "~": None, "0x1f": ("int", "0x1f"), "12": 12,
             "20221215T180351Z": "20221215T180351Z", "orders": "orders", "012": ("int", "012")}
    for text, want in cases.items():
        got = yaml_load("k: %s\n" % text)["k"]
        if got != want:
            probs.append("resolve(%r) = %r, want %r" % (text, got, want))
    doc = yaml_load("'y':\n- y/a/\nx:\n  a: 'it''s'\n  b: \"q\\\"\"\nz: 'two\n  lines'\nw: 'a\n\n  b'\n")
    if doc != {"y": ["y/a/"], "x": {"a": "it's", "b": 'q"'}, "z": "two lines", "w": "a\nb"}:
        probs.append("yaml_load: %r" % (doc,))
    return probs


def main(argv):
    if argv[1:] == ["--selftest"]:
        probs = selftest()
        for p in probs:
            print("problem: " + p)
        print("selftest: %s" % ("ok" if not probs else "%d problems" % len(probs)))
        return 1 if probs else 0
    if len(argv) < 2:
        print(__doc__)
        return 2
    board = Board(argv[1]).read()
    expect = [a for a in argv[2:] if a != "--json"]
    for i, a in enumerate(expect):
        if a == "--expect":
            continue
        pin, _, count = a.partition("=")
        if len(board.pins.get(pin, [])) != int(count):
            board.bad("pin %s has %d versions, expected %s" % (pin, len(board.pins.get(pin, [])), count))
    if "--json" in argv:
        out = {p: [dict(version=v, **{k: board.meta.get((p, v), {}).get(k) for k in
                                       ("file", "file_size", "pin_hash", "title", "description", "user")})
                   for v in vs] for p, vs in board.pins.items()}
        print(json.dumps(out, default=str))
    report = sys.stderr if "--json" in argv else sys.stdout
    for p in board.problems:
        print("problem: " + p, file=report)
    nver = sum(len(v) for v in board.pins.values())
    print("board %s: %d pins, %d versions, %d problems" % (board.path, len(board.pins), nver,
                                                           len(board.problems)), file=report)
    return 1 if board.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
