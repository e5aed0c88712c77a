#!/usr/bin/env python3
"""Writes the hostile-torrent corpus (*.torrent) and manifest.json beside this script.

Deterministic (standard library only): re-running rewrites identical files. Each case names what it attacks
and what TorrentMetainfo.TryParse must do with it: "refused" with a MetainfoErrorCode name, or "sanitized"
with the exact TorrentFile.Path of every file (pad files included) in torrent order. Names are repaired as
libtorrent 2.0.8 repairs them ('..' and '.' dropped, '/' and '\\' and NUL removed, collisions renamed
'a.1'), so most path attacks end "sanitized": the test then stores each such torrent and proves nothing lands
outside the save folder. "Huge" values are length prefixes and integers, never real bytes, so the corpus stays
a few KB.
Used by tests/PeerNet.Engine.Tests/Hostile/HostileTorrentTests.cs."""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PIECE = 16384


def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted(((k.encode() if isinstance(k, str) else k), x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    raise TypeError(type(v))


def hashes(count, size=20):
    return b"".join(hashlib.sha256(b"%d" % i).digest()[:size] for i in range(count))


def pieces_for(total, piece=PIECE):
    return hashes((total + piece - 1) // piece)


def info_hash_name(data):
    """The hex SHA-1 of a torrent's info dictionary: libtorrent's (and PeerNet's) name for a torrent whose name
    sanitizes to nothing. Finds the info value by encoding it again: every torrent here is canonical."""
    start = data.index(b"4:infod") + 6
    depth, i = 0, start
    while True:
        c = data[i:i + 1]
        if c in (b"d", b"l"):
            depth, i = depth + 1, i + 1
        elif c == b"e":
            depth, i = depth - 1, i + 1
            if depth == 0:
                return hashlib.sha1(data[start:i]).hexdigest()
        elif c == b"i":
            i = data.index(b"e", i) + 1
        else:
            colon = data.index(b":", i)
            i = colon + 1 + int(data[i:colon])


def v1_multi(files, name="hostile", piece=PIECE, pieces=None, info_extra=None, outer=None):
    """files: list of (path segments, length) or (path segments, length, extra keys)."""
    entries = []
    total = 0
    for f in files:
        entry = {"length": f[1], "path": f[0]} if f[0] is not None else {"length": f[1]}
        if len(f) > 2:
            entry.update(f[2])
        entries.append(entry)
        total += f[1] if isinstance(f[1], int) and f[1] > 0 else 0
    info = {"name": name, "piece length": piece, "files": entries,
            "pieces": pieces if pieces is not None else pieces_for(total, piece)}
    info.update(info_extra or {})
    torrent = {"announce": "http://tracker.invalid/announce", "info": info}
    torrent.update(outer or {})
    return benc(torrent)


def v1_single(name, length=1000, piece=PIECE, info_extra=None):
    info = {"name": name, "piece length": piece, "length": length, "pieces": pieces_for(max(length, 0), piece)}
    info.update(info_extra or {})
    return benc({"info": info})


def root_of(seed):
    return hashlib.sha256(b"root" + seed.encode()).digest()


def leaf(length, seed="x"):
    d = {"length": length}
    if length > 0:
        d["pieces root"] = root_of(seed)
    return {"": d}


def v2(tree, name="hostile", piece=PIECE, layers=None, info_extra=None):
    info = {"name": name, "piece length": piece, "meta version": 2, "file tree": tree}
    info.update(info_extra or {})
    torrent = {"info": info}
    if layers is not None:
        torrent["piece layers"] = layers
    return benc(torrent)


def nested_tree(depth, length=10):
    tree = leaf(length)
    for i in reversed(range(depth)):
        tree = {"d%d" % i: tree}
    return tree


def v2_with_layer(length, layer, good_root=True):
    """A v2 single-file torrent of `length` bytes whose piece layer is `layer`."""
    blocks_per_piece = PIECE // 16384
    pieces = (length + PIECE - 1) // PIECE
    # Pad hash of one piece-sized subtree of zero blocks.
    pad = bytes(32)
    for _ in range(blocks_per_piece.bit_length() - 1):
        pad = hashlib.sha256(pad + pad).digest()
    width = 1
    while width < pieces:
        width *= 2
    real_layer = hashes(pieces, 32)
    level = [real_layer[i * 32:(i + 1) * 32] for i in range(pieces)] + [pad] * (width - pieces)
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    root = level[0] if good_root else root_of("other")
    tree = {"big.bin": {"": {"length": length, "pieces root": root}}}
    return v2(tree, name="big.bin", layers={root: layer if layer is not None else real_layer})


CASES = []


def case(file, attack, data, refused=None, paths=None, symlinks=None):
    assert (refused is None) != (paths is None), file
    expected = {"outcome": "refused", "error": refused} if refused else {"outcome": "sanitized", "paths": paths}
    if symlinks:
        expected["symlinks"] = symlinks
    CASES.append((file, attack, data, expected))


# --- path traversal ---------------------------------------------------------------------------------------
case("traversal-dotdot.torrent", "'..' segments in a v1 path (dropped, as libtorrent drops them)",
     v1_multi([(["..", "..", "etc", "passwd"], 10)]), paths=["hostile/etc/passwd"])
case("traversal-dotdot-middle.torrent", "'..' between ordinary segments", v1_multi([(["a", "..", "..", "b"], 10)]), paths=["hostile/a/b"])
case("traversal-dotdot-only.torrent", "a path of nothing but '..' (becomes '_')", v1_multi([([".."], 10), ([".", ".."], 10)]),
     paths=["hostile/_", "hostile/_.1"])
case("traversal-in-one-segment.torrent", "'../../etc/passwd' as one segment (separators inside a segment are removed)",
     v1_multi([(["../../etc/passwd"], 10)]), paths=["hostile/....etcpasswd"])
case("traversal-backslash-segment.torrent", "'..\\..\\windows\\system32' as one segment",
     v1_multi([(["..\\..\\windows\\system32"], 10)]), paths=["hostile/....windowssystem32"])
_name_dotdot = v1_multi([(["a"], 10)], name="..")
case("traversal-name-dotdot.torrent", "name '..' (the root folder itself escapes): the info-hash names the folder",
     _name_dotdot, paths=[info_hash_name(_name_dotdot) + "/a"])
case("traversal-name-dotdot-single.torrent", "single-file name '..' (nothing left to name the file)", v1_single(".."), refused="UnsafePath")
case("traversal-name-with-slash.torrent", "single-file name '../evil'", v1_single("../evil"), paths=["..evil"])
_name_utf8 = v1_multi([(["a"], 10)], info_extra={"name.utf-8": ".."})
case("traversal-name-utf8.torrent", "safe 'name' but 'name.utf-8' is '..' (the one that is used)",
     _name_utf8, paths=[info_hash_name(_name_utf8) + "/a"])
case("traversal-path-utf8.torrent", "safe 'path' but 'path.utf-8' climbs out",
     v1_multi([(["a"], 10, {"path.utf-8": ["..", "x"]})]), paths=["hostile/x"])
case("traversal-v2-key.torrent", "'..' as a v2 file tree key (the folder merges into its parent)",
     v2({"..": {"x": leaf(10)}, "ok": leaf(10)}), paths=["hostile/x", "hostile/ok"])
case("traversal-v2-file-dotdot.torrent", "a v2 file whose key is '..' (it takes the torrent folder's own path: renamed beside it)",
     v2({"..": leaf(10), "ok": leaf(10, "ok")}), paths=["hostile.1", "hostile/ok"])
case("traversal-pad-file.torrent", "a BEP 47 pad file whose path climbs out",
     v1_multi([(["a"], 10), ([".pad", "..", "..", "x"], PIECE - 10, {"attr": "p"}), (["b"], 10)]),
     paths=["hostile/a", "hostile/.pad/x", "hostile/b"])

# --- absolute and drive paths -----------------------------------------------------------------------------
case("absolute-unix-segment.torrent", "'/etc/passwd' as one segment", v1_multi([(["/etc/passwd"], 10)]), paths=["hostile/etcpasswd"])
case("absolute-empty-first-segment.torrent", "empty first segment (would join to '/etc/passwd')",
     v1_multi([(["", "etc", "passwd"], 10)]), paths=["hostile/_/etc/passwd"])
case("absolute-drive.torrent", "'C:' drive segment", v1_multi([(["C:", "Windows", "evil.dll"], 10)]), paths=["hostile/C_/Windows/evil.dll"])
case("absolute-drive-name.torrent", "single-file name 'C:\\evil.exe'", v1_single("C:\\evil.exe"), paths=["C_evil.exe"])
case("absolute-unc.torrent", "UNC path '\\\\server\\share\\x' as a segment", v1_multi([(["\\\\server\\share\\x"], 10)]), paths=["hostile/serversharex"])
case("absolute-v2-key.torrent", "'/etc' as a v2 file tree key", v2({"/etc": {"passwd": leaf(10)}, "b": leaf(10, "b")}),
     paths=["hostile/etc/passwd", "hostile/b"])
_name_root = v1_multi([(["a"], 10)], name="/")
case("absolute-name-root.torrent", "name '/' (the file system root): the info-hash names the folder", _name_root,
     paths=[info_hash_name(_name_root) + "/a"])
case("empty-path.torrent", "a path of only empty and '.' segments", v1_multi([(["", ".", ""], 10)]), paths=["hostile/_/_"])
case("empty-name.torrent", "name '.'", v1_single("."), refused="UnsafePath")

# --- NUL, control and forbidden characters -----------------------------------------------------------------
case("nul-in-path.torrent", "NUL inside a segment ('a\\0/../../x' truncation trick; NUL and '/' are removed)",
     v1_multi([([b"a\x00/../../x"], 10)]), paths=["hostile/a....x"])
case("nul-in-name.torrent", "NUL inside the name", v1_single("evil\x00.txt"), paths=["evil.txt"])
case("control-chars.torrent", "tab, newline and ESC in segments", v1_multi([(["tab\tname", "new\nline\x1b[31m"], 10)]),
     paths=["hostile/tab_name/new_line_[31m"])
case("windows-forbidden.torrent", "< > : \" | ? * in a segment", v1_multi([(["a<b>c:d\"e|f?g*h"], 10)]), paths=["hostile/a_b_c_d_e_f_g_h"])
case("invalid-utf8.torrent", "bytes that are not UTF-8", v1_multi([([b"caf\xe9", b"\xff\xfe.txt"], 10)]), paths=["hostile/caf_/__.txt"])

# --- reserved names ---------------------------------------------------------------------------------------
case("reserved-device-names.torrent", "Windows device names CON, nul.txt, COM1.log, lpt9, AUX . x",
     v1_multi([(["CON"], 1), (["nul.txt"], 1), (["COM1.log"], 1), (["lpt9"], 1), (["AUX .x"], 1)]),
     paths=["hostile/_CON", "hostile/_nul.txt", "hostile/_COM1.log", "hostile/_lpt9", "hostile/_AUX .x"])
case("reserved-name-con.torrent", "the torrent's name is 'con'", v1_multi([(["a"], 10)], name="con"), paths=["_con/a"])
case("trailing-dot-space.torrent", "trailing dot and space (Windows strips them)", v1_multi([(["file."], 1), (["dir ", "x"], 1)]),
     paths=["hostile/file_", "hostile/dir_/x"])

# --- duplicate and colliding names ------------------------------------------------------------------------
case("duplicate-exact.torrent", "the same path twice (the second write would clobber the first): renamed",
     v1_multi([(["a"], 10), (["a"], 20)]), paths=["hostile/a", "hostile/a.1"])
case("duplicate-case.torrent", "README and readme (one file on Windows and macOS)", v1_multi([(["README"], 10), (["readme"], 10)]),
     paths=["hostile/README", "hostile/readme.1"])
case("duplicate-case-non-ascii.torrent", "'É' and 'é' (libtorrent keeps both; one file on Windows and macOS)",
     v1_multi([(["\u00c9"], 10), (["\u00e9"], 10)]), refused="DuplicatePath")
case("duplicate-file-and-folder.torrent", "'a' is a file and the folder of 'a/b'", v1_multi([(["a"], 10), (["a", "b"], 10)]),
     paths=["hostile/a.1", "hostile/a/b"])
case("duplicate-folder-case.torrent", "'Dir/x' and 'dir/y': folders differ only in case, then 'DIR' as a file",
     v1_multi([(["Dir", "x"], 10), (["dir", "y"], 10), (["DIR"], 10)]), paths=["hostile/Dir/x", "hostile/dir/y", "hostile/DIR.1"])
case("duplicate-after-sanitizing.torrent", "'a:b' and 'a_b' sanitize to the same name", v1_multi([(["a:b"], 10), (["a_b"], 10)]),
     paths=["hostile/a_b", "hostile/a_b.1"])
case("duplicate-device-rename.torrent", "'CON' is renamed '_CON', which is already taken", v1_multi([(["_CON"], 10), (["CON"], 10)]),
     paths=["hostile/_CON", "hostile/_CON.1"])
case("duplicate-dropped-segments.torrent", "'a/./b' and 'a/../b' both become 'a/b'", v1_multi([(["a", ".", "b"], 10), (["a", "..", "b"], 10)]),
     paths=["hostile/a/b", "hostile/a/b.1"])
case("duplicate-renamed-name-taken.torrent", "three 'x' and an 'x.1': each rename takes the next free name",
     v1_multi([(["x"], 10), (["x"], 10), (["x"], 10), (["x.1"], 10)]), paths=["hostile/x", "hostile/x.1", "hostile/x.2", "hostile/x.1.1"])
case("duplicate-v2-file-and-folder.torrent", "v2 node that is both a file and a folder",
     v2({"a": {"": {"length": 10, "pieces root": root_of("a")}, "b": leaf(10)}}), refused="Inconsistent")

# --- symlinks (BEP 47 attr 'l') ---------------------------------------------------------------------------
case("symlink-escape.torrent", "symlink whose target climbs out of the torrent (it points to itself instead)",
     v1_multi([(["a"], 10), (["link"], 0, {"attr": "l", "symlink path": ["..", "..", "etc", "passwd"]})]),
     paths=["hostile/a", "hostile/link"], symlinks={"hostile/link": "link"})
case("symlink-absolute.torrent", "symlink target with an empty first segment ('/etc/shadow')",
     v1_multi([(["a"], 10), (["link"], 0, {"attr": "l", "symlink path": ["", "etc", "shadow"]})]),
     paths=["hostile/a", "hostile/link"], symlinks={"hostile/link": "link"})
case("symlink-inside.torrent", "symlink to a file of the torrent (listed, never created)",
     v1_multi([(["a"], 10), (["link"], 0, {"attr": "l", "symlink path": ["a"]})]),
     paths=["hostile/a", "hostile/link"], symlinks={"hostile/link": "a"})
case("symlink-no-target.torrent", "attr 'l' with no 'symlink path' (an empty file, as libtorrent reads it)",
     v1_multi([(["a"], 10), (["link"], 7, {"attr": "l"})]), paths=["hostile/a", "hostile/link"])
case("symlink-with-length.torrent", "a symlink with a 'length' (it takes no bytes: 'b' starts right after 'a')",
     v1_multi([(["a"], 10), (["link"], 7, {"attr": "l", "symlink path": ["a"]}), (["b"], 10)], pieces=pieces_for(20)),
     paths=["hostile/a", "hostile/link", "hostile/b"], symlinks={"hostile/link": "a"})
case("symlink-over-file.torrent", "a symlink at the path of a real file (renamed; its target, checked first, is its old path)",
     v1_multi([(["a"], 10), (["a"], 0, {"attr": "l", "symlink path": ["b"]})]),
     paths=["hostile/a", "hostile/a.1"], symlinks={"hostile/a.1": "a"})

# --- negative and huge sizes ------------------------------------------------------------------------------
case("size-negative.torrent", "file length -1", v1_multi([(["a"], -1), (["b"], 10)]), refused="InvalidValue")
case("size-negative-single.torrent", "single-file length -4096", v1_single("a", length=-4096, info_extra={"pieces": b""}), refused="InvalidValue")
case("size-huge.torrent", "a 2^62-byte file (2^48 pieces)", v1_multi([(["a"], 1 << 62)], pieces=hashes(1)), refused="LimitExceeded")
case("size-sum-overflow.torrent", "two files whose sizes add past 2^63", v1_multi([(["a"], (1 << 62) + 1), (["b"], 1 << 62)], pieces=hashes(1)),
     refused="InvalidValue")
case("size-max-int64.torrent", "file length 2^63-1", v1_multi([(["a"], (1 << 63) - 1)], pieces=hashes(1)), refused="LimitExceeded")
case("size-max-int64-v2.torrent", "a v2 file of 2^63-1 bytes (no 'pieces' to cross-check the piece count)",
     v2({"a": leaf((1 << 63) - 1)}, name="a"), refused="LimitExceeded")
case("size-not-integer.torrent", "length is a string", v1_multi([(["a"], "1000")]), refused="WrongType")
case("size-integer-overflow.torrent", "length i99999999999999999999e (past Int64: libtorrent reads 0, PeerNet no integer)",
     b"d4:infod5:filesld6:lengthi99999999999999999999e4:pathl1:aeee4:name1:x12:piece lengthi16384e6:pieces20:" + bytes(20) + b"ee",
     refused="WrongType")
case("size-all-empty.torrent", "every file empty", v1_multi([(["a"], 0), (["b"], 0)], pieces=b""), refused="InvalidValue")
case("piece-length-zero.torrent", "piece length 0", v1_multi([(["a"], 10)], piece=0, pieces=hashes(1)), refused="InvalidValue")
case("piece-length-negative.torrent", "piece length -16384", v1_multi([(["a"], 10)], piece=-16384, pieces=hashes(1)), refused="InvalidValue")
case("piece-length-huge.torrent", "piece length 2^40", v1_multi([(["a"], 10)], piece=1 << 40, pieces=hashes(1)), refused="InvalidValue")
case("piece-length-v2-not-pow2.torrent", "v2 piece length 20000 (not a power of two)", v2({"a": leaf(10)}, piece=20000), refused="InvalidValue")

# --- piece count mismatches -------------------------------------------------------------------------------
case("pieces-too-few.torrent", "3 pieces of data, 2 hashes", v1_multi([(["a"], 3 * PIECE)], pieces=hashes(2)), refused="Inconsistent")
case("pieces-too-many.torrent", "1 piece of data, 5 hashes", v1_multi([(["a"], 100)], pieces=hashes(5)), refused="Inconsistent")
case("pieces-ragged.torrent", "'pieces' of 30 bytes (not a multiple of 20)", v1_multi([(["a"], 100)], pieces=bytes(30)), refused="InvalidValue")
case("pieces-missing.torrent", "no 'pieces' and no 'meta version'", benc({"info": {"name": "x", "piece length": PIECE, "length": 10}}), refused="MissingKey")
case("pieces-not-string.torrent", "'pieces' is a list", v1_multi([(["a"], 100)], pieces=None, info_extra={"pieces": [1, 2]}), refused="WrongType")

# --- bad piece layers (BEP 52) ----------------------------------------------------------------------------
case("layers-wrong-length.torrent", "piece layer one hash short", v2_with_layer(5 * PIECE, hashes(4, 32)), refused="Inconsistent")
case("layers-wrong-hash.torrent", "piece layer that does not hash to its pieces root", v2_with_layer(5 * PIECE, None, good_root=False), refused="Inconsistent")
case("layers-bad-key.torrent", "piece layers key of 31 bytes",
     v2({"a": leaf(10)}, layers={bytes(31): hashes(1, 32)}), refused="InvalidValue")
case("layers-not-string.torrent", "piece layer that is an integer",
     benc({"info": {"name": "big.bin", "piece length": PIECE, "meta version": 2,
                    "file tree": {"big.bin": {"": {"length": 5 * PIECE, "pieces root": root_of("big")}}}},
           "piece layers": {root_of("big"): 7}}), refused="WrongType")
case("layers-root-short.torrent", "'pieces root' of 16 bytes", v2({"a": {"": {"length": 10, "pieces root": bytes(16)}}}), refused="InvalidValue")
case("hybrid-disagree.torrent", "hybrid whose v1 file list and v2 file tree name different files",
     benc({"info": {"name": "h", "piece length": PIECE, "meta version": 2, "pieces": hashes(2),
                    "files": [{"length": 10, "path": ["a"]}, {"length": PIECE - 10, "path": [".pad", "x"], "attr": "p"},
                              {"length": 10, "path": ["evil"]}],
                    "file tree": {"a": leaf(10, "a"), "b": leaf(10, "b")}}}), refused="Inconsistent")

# --- deep nesting -----------------------------------------------------------------------------------------
case("deep-path.torrent", "a v1 path 65 folders deep", v1_multi([(["d"] * 65, 10)]), refused="UnsafePath")
case("deep-path-64.torrent", "a v1 path exactly 64 segments deep (the limit)", v1_multi([(["d"] * 63 + ["f"], 10)]),
     paths=["hostile/" + "/".join(["d"] * 63 + ["f"])])
case("deep-v2-tree.torrent", "a v2 file tree 70 folders deep", v2(nested_tree(70)), refused="UnsafePath")
case("deep-bencode.torrent", "200 nested lists in an unknown key (bencode depth limit 100)",
     b"d7:comment" + b"l" * 200 + b"e" * 200 + b"4:infod6:lengthi10e4:name1:x12:piece lengthi16384e6:pieces20:" + bytes(20) + b"ee",
     refused="InvalidBencode")

# --- huge strings -----------------------------------------------------------------------------------------
case("huge-string-prefix.torrent", "a string length prefix of 2^40 bytes", b"d7:comment1099511627776:abc", refused="InvalidBencode")
case("huge-string-truncated.torrent", "a 60 MB string prefix with 3 bytes behind it", b"d7:comment60000000:abce", refused="InvalidBencode")
case("huge-segment.torrent", "a 300-byte path segment (cut to 240 bytes, as libtorrent cuts it)", v1_multi([(["x" * 300 + ".exe"], 10)]),
     paths=["hostile/" + "x" * 240 + ".exe"])
case("huge-segment-of-replacements.torrent", "a 256-byte segment of control characters (256 '_': libtorrent does not cut those)",
     v1_multi([(["\x01" * 256], 10)]), refused="UnsafePath")
case("huge-segment-after-sanitizing.torrent", "a 250-byte segment of bytes that are not UTF-8 (each becomes '_', still 250)",
     v1_multi([([b"\xff" * 250], 10)]), paths=["hostile/" + "_" * 250])
case("huge-path.torrent", "a 5,000-byte path of 20 segments", v1_multi([(["y" * 250] * 20, 10)]), refused="UnsafePath")
case("huge-name.torrent", "a 256-byte name", v1_single("n" * 256), paths=["n" * 240])

# --- structure --------------------------------------------------------------------------------------------
case("structure-root-list.torrent", "the file is a list, not a dictionary", benc([{"info": {}}]), refused="WrongType")
case("structure-info-string.torrent", "'info' is a string", benc({"info": "x"}), refused="WrongType")
case("structure-meta-version-3.torrent", "meta version 3", v2({"a": leaf(10)}, info_extra={"meta version": 3}), refused="UnsupportedVersion")
case("structure-duplicate-key.torrent", "'name' twice in info (the first wins, as in libtorrent)",
     b"d4:infod6:lengthi10e4:name4:safe4:name2:..12:piece lengthi16384e6:pieces20:" + bytes(20) + b"ee", paths=["safe"])
case("structure-duplicate-key-v2.torrent", "'name' twice in a v2 info dictionary (libtorrent refuses it there)",
     b"d4:infod9:file treed1:ad0:d6:lengthi10e11:pieces root32:" + root_of("a") + b"eee12:meta versioni2e4:name4:safe4:name2:.."
     + b"12:piece lengthi16384eee", refused="InvalidBencode")
case("structure-trailing-data.torrent", "bytes after the torrent's dictionary (ignored)", v1_single("a") + b"d4:evil0:e", paths=["a"])
case("structure-pad-collides.torrent", "a pad file at the same path as a real file (renamed; pads are never stored)",
     v1_multi([(["a"], 10), (["a"], PIECE - 10, {"attr": "p"}), (["b"], 10)]), paths=["hostile/a", "hostile/a.1", "hostile/b"])
case("structure-pad-without-path.torrent", "a pad file without a path ('.pad/N', outside the name folder; never stored)",
     v1_multi([(["a"], 10), (None, PIECE - 10, {"attr": "p"}), (["b"], 10)]), paths=["hostile/a", ".pad/16374", "hostile/b"])
case("structure-legacy-pad.torrent", "BitComet '_____padding_file_' names are pads, not stored",
     v1_multi([(["a"], 10), (["_____padding_file_0_x"], PIECE - 10), (["b"], 10)]),
     paths=["hostile/a", "hostile/_____padding_file_0_x", "hostile/b"])


def main():
    for f in os.listdir(HERE):
        if f.endswith(".torrent"):
            os.remove(os.path.join(HERE, f))
    manifest = []
    for file, attack, data, expected in CASES:
        with open(os.path.join(HERE, file), "wb") as out:
            out.write(data)
        manifest.append({"file": file, "attack": attack, **expected})
    with open(os.path.join(HERE, "manifest.json"), "w") as out:
        json.dump(manifest, out, indent=2, ensure_ascii=True)
        out.write("\n")
    print(f"{len(manifest)} hostile torrents, {sum(len(c[2]) for c in CASES)} bytes")


if __name__ == "__main__":
    main()
