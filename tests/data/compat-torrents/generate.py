#!/usr/bin/env python3
"""Writes the compat-torrent corpus (*.torrent) and manifest.json beside this script.

Torrents that break the rules the way torrents in the wild do, and the hybrids and v2 forms libtorrent refuses:
each is read as libtorrent 2.0.8 reads it. Cases named after a file of libtorrent's test/test_torrents are
rebuilt here from the expectation libtorrent's test_torrent_info.cpp states for it (no file is copied); the
others are our own. Deterministic, standard library only: re-running rewrites identical files.

manifest.json holds, per file, PeerNet's expected reading: "refused" with a MetainfoErrorCode name, or
"loaded" with the name, version, piece length and count, info-hashes (computed here over the info bytes as
written) and every file (path, length, offset, pad, symlink target relative to the name folder, executable,
hidden). Checked without libtorrent by MetainfoCompatCorpusTests (tests/PeerNet.Codecs.Tests) and against
python3-libtorrent by CompatCorpusInteropTests (tests/PeerNet.Interop.Tests). Where PeerNet deliberately reads
a file otherwise than libtorrent, "libtorrent" says what libtorrent does instead and "why".
"""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PIECE = 16384


class Raw(bytes):
    """Bytes written as they are: bencode that no encoder would write."""


class Pairs(list):
    """A dictionary whose (key, value) pairs are written in this order, repeats included."""


def benc(v):
    if isinstance(v, Raw):
        return bytes(v)
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list) and not isinstance(v, Pairs):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, Pairs):
        return b"d" + b"".join(benc(k) + benc(x) for k, x in v) + b"e"
    if isinstance(v, dict):
        items = sorted(((k.encode() if isinstance(k, str) else k), x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    raise TypeError(type(v))


def sha1s(count):
    return b"".join(hashlib.sha1(b"piece %d" % i).digest() for i in range(count))


def root(seed):
    return hashlib.sha256(b"root " + seed.encode()).digest()


def leaf(length, seed="x", **extra):
    d = {"length": length}
    if length > 0:
        d["pieces root"] = root(seed)
    d.update(extra)
    return {"": d}


def F(path, length, **extra):
    """A v1 'files' entry; path None for none at all."""
    d = {"length": length} if length is not None else {}
    if path is not None:
        d["path"] = path
    d.update(extra)
    return d


def pad(length, path=None):
    return F(path if path is not None else [".pad", str(length)], length, attr="p")


def v1(files, name="t", pieces=1, piece=PIECE, **info_extra):
    info = {"name": name, "piece length": piece, "files": files, "pieces": sha1s(pieces)}
    info.update(info_extra)
    return info


def v1_single(name, length, pieces=1, piece=PIECE, **info_extra):
    info = {"name": name, "piece length": piece, "length": length, "pieces": sha1s(pieces)}
    info.update(info_extra)
    return info


def v2(tree, name="t", piece=PIECE, **info_extra):
    info = {"name": name, "piece length": piece, "meta version": 2, "file tree": tree}
    info.update(info_extra)
    return info


def hybrid(files, tree, name="t", pieces=1, piece=PIECE, **info_extra):
    info = v2(tree, name, piece, **info_extra)
    info.update({"files": files, "pieces": sha1s(pieces)} if files is not None else {"pieces": sha1s(pieces)})
    return info


def torrent(info, tail=b""):
    """The whole .torrent and its info bytes; info may be a dict or Raw bencode."""
    info_bytes = info if isinstance(info, Raw) else benc(info)
    data = benc({"announce": "http://tracker.invalid/announce", "info": Raw(info_bytes)}) + tail
    return data, info_bytes


CASES = []


def f(path, length, offset, flags="", target=None):
    """An expected file: flags 'p' pad, 'x' executable, 'h' hidden; a target makes it a symlink."""
    return {"path": path, "length": length, "offset": offset, "pad": "p" in flags, "symlinkTarget": target,
            "executable": "x" in flags, "hidden": "h" in flags}


def loaded(file, source, what, built, version, name, pieces, files, piece=PIECE, libtorrent=None):
    data, info = built
    entry = {"outcome": "loaded", "name": name, "version": version, "pieceLength": piece, "pieceCount": pieces,
             "totalSize": sum(x["length"] for x in files if not x["pad"]),
             "infoHashV1": hashlib.sha1(info).hexdigest() if version in ("v1", "hybrid") else None,
             "infoHashV2": hashlib.sha256(info).hexdigest() if version in ("v2", "hybrid") else None,
             "files": files}
    add(file, source, what, data, entry, libtorrent)


def refused(file, source, what, built, error, libtorrent=None):
    add(file, source, what, built[0], {"outcome": "refused", "error": error}, libtorrent)


def add(file, source, what, data, entry, libtorrent):
    assert all(c[0] != file for c in CASES), file
    entry = {"file": file, "source": source, "case": what, **entry}
    if libtorrent is not None:
        entry["libtorrent"] = libtorrent
    CASES.append((file, data, entry))


LT = "libtorrent test_torrent_info.cpp: "
OWN = "own"

# --- duplicate paths: the later file is renamed --------------------------------------------------------------
loaded("duplicate-files.torrent", LT + "duplicate_files.torrent", "the same path twice: the later one is 'bar.1.txt'",
       torrent(v1([F(["foo", "bar.txt"], 10), F(["foo", "bar.txt"], 20)], name="temp")), "v1", "temp", 1,
       [f("temp/foo/bar.txt", 10, 0), f("temp/foo/bar.1.txt", 20, 10)])
loaded("duplicate-three-times.torrent", OWN, "three of a name and one taken by a rename",
       torrent(v1([F(["bar.txt"], 1), F(["bar.txt"], 2), F(["bar.txt"], 3), F(["bar.1.txt"], 4)])), "v1", "t", 1,
       [f("t/bar.txt", 1, 0), f("t/bar.1.txt", 2, 1), f("t/bar.2.txt", 3, 3), f("t/bar.1.1.txt", 4, 6)])
loaded("duplicate-ascii-case.torrent", OWN, "README and readme (equal ignoring ASCII case)",
       torrent(v1([F(["README"], 1), F(["readme"], 2)])), "v1", "t", 1, [f("t/README", 1, 0), f("t/readme.1", 2, 1)])
loaded("duplicate-after-sanitizing.torrent", OWN, "'a/b' and 'ab' collide once '/' is removed",
       torrent(v1([F(["a/b"], 1), F(["ab"], 2), F(["a\u202eb"], 3)])), "v1", "t", 1,
       [f("t/ab", 1, 0), f("t/ab.1", 2, 1), f("t/ab.2", 3, 3)])
loaded("duplicate-file-then-folder.torrent", OWN, "'a' is a file and the folder of 'a/b': the file is renamed",
       torrent(v1([F(["a"], 1), F(["a", "b"], 2)])), "v1", "t", 1, [f("t/a.1", 1, 0), f("t/a/b", 2, 1)])
loaded("duplicate-folder-then-file.torrent", OWN, "'A/b' then 'a' (folders are taken first, ignoring ASCII case)",
       torrent(v1([F(["A", "b"], 1), F(["a"], 2)])), "v1", "t", 1, [f("t/A/b", 1, 0), f("t/a.1", 2, 1)])
loaded("duplicate-hidden-file.torrent", OWN, "'.bashrc' twice (all extension), and a folder with a dot",
       torrent(v1([F([".bashrc"], 1), F([".bashrc"], 2), F(["d.x", "f"], 3), F(["d.x", "f"], 4)])), "v1", "t", 1,
       [f("t/.bashrc", 1, 0), f("t/.1.bashrc", 2, 1), f("t/d.x/f", 3, 3), f("t/d.x/f.1", 4, 6)])
loaded("duplicate-pads.torrent", OWN, "pads of one length share a path; a pad of another length is renamed",
       torrent(v1([F(["a"], 10), pad(PIECE - 10), F(["b"], 10), pad(PIECE - 10), F(["c"], 10), pad(5, [".pad", str(PIECE - 10)])], pieces=3)),
       "v1", "t", 3, [f("t/a", 10, 0), f("t/.pad/16374", 16374, 10, "p"), f("t/b", 10, 16384), f("t/.pad/16374", 16374, 16394, "p"),
                      f("t/c", 10, 32768), f("t/.pad/16374.1", 5, 32778, "p")])

# --- path elements --------------------------------------------------------------------------------------------
loaded("empty-path-elements.torrent", LT + "empty_path.torrent, sanitize_path", "empty elements become '_'",
       torrent(v1([F(["", "x"], 1), F(["y", ""], 2)])), "v1", "t", 1, [f("t/_/x", 1, 0), f("t/y/_", 2, 1)])
loaded("dot-elements.torrent", LT + "sanitize_path", "'.' elements are dropped",
       torrent(v1([F([".", "x"], 1), F(["y", "."], 2), F(["c:", ".", "c"], 3)])), "v1", "t", 1,
       [f("t/x", 1, 0), f("t/y", 2, 1), f("t/c_/c", 3, 3)],
       libtorrent={"paths": ["t/x", "t/y", "t/c:/c"], "why": "':' becomes '_' on every OS in PeerNet; libtorrent on Linux keeps it"})
loaded("parent-path.torrent", LT + "parent_path.torrent, sanitize_path", "'..' elements are dropped",
       torrent(v1([F(["..", "x"], 1), F(["a", "..", "c"], 2), F(["/..", ".", "d"], 3)])), "v1", "t", 1,
       [f("t/x", 1, 0), f("t/a/c", 2, 1), f("t/d", 3, 3)])
loaded("parent-path-only.torrent", OWN, "a path of nothing but '..' and '.' is '_'",
       torrent(v1([F([".."], 1), F([".", ".."], 2)])), "v1", "t", 1, [f("t/_", 1, 0), f("t/_.1", 2, 1)])
loaded("slash-in-element.torrent", LT + "slash_path.torrent, slash_path2.torrent", "'/' inside an element is removed",
       torrent(v1([F(["/bar"], 1), F(["abc/../../def", "bar"], 2)], name="temp")), "v1", "temp", 1,
       [f("temp/bar", 1, 0), f("temp/abc....def/bar", 2, 1)])
loaded("slash-in-single-name.torrent", LT + "slash_path3.torrent", "a single file's name 'temp/../../abc'",
       torrent(v1_single("temp/../../abc", 5)), "v1", "temp....abc", 1, [f("temp....abc", 5, 0)])
loaded("backslash-in-element.torrent", LT + "backslash_path.torrent", "'\\' inside an element is removed",
       torrent(v1([F(["a\\b"], 1), F(["\\c", ".", "c"], 2)])), "v1", "t", 1, [f("t/ab", 1, 0), f("t/c/c", 2, 1)])
loaded("absolute-filename.torrent", LT + "absolute_filename.torrent", "an absolute path in an element",
       torrent(v1([F(["/abcde"], 1), F(["foobar"], 2)], name="temp")), "v1", "temp", 1, [f("temp/abcde", 1, 0), f("temp/foobar", 2, 1)])
loaded("nul-in-names.torrent", OWN, "NUL inside a file name and the torrent's name is dropped",
       torrent(v1([F(["a\0b"], 1), F([b"\0\0\xed\0\x80"], 2)], name="x\0y")), "v1", "xy", 1, [f("xy/ab", 1, 0), f("xy/_", 2, 1)])
loaded("bidi-controls.torrent", OWN, "U+202E and the other bidi controls libtorrent removes",
       torrent(v1([F(["evil\u202egpj.exe"], 1), F(["a\u200eb\u200fc\u202ad\u202be\u202cf\u202dg"], 2)])), "v1", "t", 1,
       [f("t/evilgpj.exe", 1, 0), f("t/abcdefg", 2, 1)])
loaded("invalid-utf8.torrent", LT + "sanitize_path", "one '_' per invalid UTF-8 sequence, as libtorrent decodes it",
       torrent(v1([F([b"filename\xc2"], 1), F([b"filename\xe2\x9f"], 2), F([b"filename\xf8\x9f\x9f\x9f\x9f" + b"foobar"], 3),
                   F([b"filename\xc0\xae"], 4), F([b"\xed\xa0\x80x"], 5), F([b"filename\xf0\x9f\x92\x88"], 6)])), "v1", "t", 1,
       [f("t/filename_", 1, 0), f("t/filename_.1", 2, 1), f("t/filename_foobar", 3, 3), f("t/filename_.2", 4, 6), f("t/_x", 5, 10),
        f("t/filename\U0001F488", 6, 15)])
loaded("control-characters.torrent", LT + "sanitize_path", "a control character is '_'",
       torrent(v1([F(["\b"], 1), F(["filename", "\b"], 2)])), "v1", "t", 1, [f("t/_", 1, 0), f("t/filename/_", 2, 1)])

# --- names -------------------------------------------------------------------------------------------------
_dotdot = torrent(v1([F(["a"], 1)], name=".."))
loaded("name-dotdot.torrent", LT + "invalid_name2.torrent", "a multi-file name with nothing left is the info-hash",
       _dotdot, "v1", hashlib.sha1(_dotdot[1]).hexdigest(), 1, [f(hashlib.sha1(_dotdot[1]).hexdigest() + "/a", 1, 0)])
_dot_v2 = torrent(v2({"a": leaf(1), "b": leaf(2, "b")}, name="."))
loaded("name-dot-v2.torrent", OWN, "a v2 multi-file name '.' is the info dictionary's SHA-1 too",
       _dot_v2, "v2", hashlib.sha1(_dot_v2[1]).hexdigest(), 2,
       [f(hashlib.sha1(_dot_v2[1]).hexdigest() + "/a", 1, 0), f(hashlib.sha1(_dot_v2[1]).hexdigest() + "/b", 2, PIECE)])
loaded("name-empty.torrent", OWN, "an empty multi-file name is '_'", torrent(v1([F(["a"], 1)], name="")), "v1", "_", 1, [f("_/a", 1, 0)])
refused("name-dotdot-single.torrent", LT + "invalid_name.torrent", "a single file named '..' has no name left",
        torrent(v1_single("..", 5)), "UnsafePath")
loaded("name-trailing-space.torrent", LT + "invalid_name3.torrent", "a name ending in a space",
       torrent(v1_single("foobar ", 5)), "v1", "foobar_", 1, [f("foobar_", 5, 0)],
       libtorrent={"name": "foobar ", "paths": ["foobar "], "why": "a trailing space or dot becomes '_' on every OS in PeerNet (Windows drops it); libtorrent on Linux keeps it"})

# --- over-long names ---------------------------------------------------------------------------------------
_long = "abcdefghi_" * 24
loaded("long-name.torrent", LT + "long_name.torrent, sanitize_path_truncate", "elements over 240 bytes are cut there, keeping the extension",
       torrent(v1([F([_long + "abcdefghi_", _long + "abcde.test"], 1)])), "v1", "t", 1,
       [f("t/" + _long + "/" + _long + ".test", 1, 0)])
loaded("long-name-utf8.torrent", LT + "sanitize_path_truncate_utf", "the cut falls after a whole character crossing 240 bytes",
       torrent(v1([F([_long[:-1] + "\u2014abcde.jpg"], 1)])), "v1", "t", 1, [f("t/" + _long[:-1] + "\u2014.jpg", 1, 0)])
loaded("long-single-name.torrent", OWN, "a single file's 300-byte name", torrent(v1_single("n" * 300 + ".iso", 5)), "v1",
       "n" * 240 + ".iso", 1, [f("n" * 240 + ".iso", 5, 0)])
loaded("long-v2-key.torrent", OWN, "a 260-byte v2 key", torrent(v2({"k" * 260 + ".mkv": leaf(5), "z": leaf(1, "z")})), "v2", "t", 2,
       [f("t/" + "k" * 240 + ".mkv", 5, 0), f("t/z", 1, PIECE)])

# --- pad files ---------------------------------------------------------------------------------------------
loaded("pad-file-bitcomet.torrent", LT + "pad_file.torrent", "a BitComet '_____padding_file_' entry is a pad file",
       torrent(v1([F(["a"], 10), F(["_____padding_file_0_x"], PIECE - 10), F(["b"], 10)], pieces=2)), "v1", "t", 2,
       [f("t/a", 10, 0), f("t/_____padding_file_0_x", PIECE - 10, 10, "p"), f("t/b", 10, PIECE)])
loaded("pad-file-no-path.torrent", LT + "pad_file_no_path.torrent", "a pad file without a path is '.pad/LENGTH', outside the name folder",
       torrent(v1([F(["a"], 10), F(None, 2124, attr="p"), F(["b"], 10)], pieces=1)), "v1", "t", 1,
       [f("t/a", 10, 0), f(".pad/2124", 2124, 10, "p"), f("t/b", 10, 2134)])
loaded("pad-file-no-path-first.torrent", OWN, "a pad file without a path before any other file",
       torrent(v1([F(None, PIECE, attr="p"), F(["b"], 10)], pieces=2)), "v1", "t", 2,
       [f(".pad/16384", PIECE, 0, "p"), f("t/b", 10, PIECE)],
       libtorrent={"name": ".pad", "why": "libtorrent names the torrent after the first file's folder, here '.pad'; PeerNet keeps 'name' (the files' paths agree)"})

# --- symlinks (BEP 47 attribute 'l') ---------------------------------------------------------------------------
loaded("symlink-to-file.torrent", LT + "symlink1.torrent", "a symlink to a file of the torrent",
       torrent(v1([F(["a", "b", "bar"], 10), F(["link"], 0, attr="l", **{"symlink path": ["a", "b", "bar"]})], name="temp")), "v1", "temp", 1,
       [f("temp/a/b/bar", 10, 0), f("temp/link", 0, 10, target="a/b/bar")])
loaded("symlink-zero-size.torrent", LT + "symlink_zero_size.torrent", "a symlink with no 'length' at all",
       torrent(v1([F(["a", "b", "bar"], 10), F(["link"], None, attr="l", **{"symlink path": ["a", "b", "bar"]})], name="temp")), "v1", "temp", 1,
       [f("temp/a/b/bar", 10, 0), f("temp/link", 0, 10, target="a/b/bar")])
loaded("symlink-with-length.torrent", OWN, "a symlink whose 'length' is 7 takes no bytes: 'b' starts right after 'a'",
       torrent(v1([F(["a"], 10), F(["link"], 7, attr="l", **{"symlink path": ["a"]}), F(["b"], 20)])), "v1", "t", 1,
       [f("t/a", 10, 0), f("t/link", 0, 10, target="a"), f("t/b", 20, 10)])
loaded("symlink-without-target.torrent", OWN, "attribute 'l' without 'symlink path' is an empty file, its length ignored",
       torrent(v1([F(["a"], 10), F(["link"], 7, attr="l"), F(["empty-target"], 5, attr="l", **{"symlink path": [".."]})])), "v1", "t", 1,
       [f("t/a", 10, 0), f("t/link", 0, 10), f("t/empty-target", 0, 10)])
loaded("symlink-outside.torrent", OWN, "symlinks naming nothing in the torrent point to themselves",
       torrent(v1([F(["a"], 10), F(["up"], 0, attr="l", **{"symlink path": ["..", "..", "etc", "passwd"]}),
                   F(["abs"], 0, attr="l", **{"symlink path": ["", "etc", "shadow"]}), F(["d", "missing"], 0, attr="l", **{"symlink path": ["nowhere"]})])),
       "v1", "t", 1, [f("t/a", 10, 0), f("t/up", 0, 10, target="up"), f("t/abs", 0, 10, target="abs"), f("t/d/missing", 0, 10, target="d/missing")])
loaded("symlink-relative-to-link.torrent", OWN, "a target named from the link's own folder is rewritten from the name folder",
       torrent(v1([F(["d", "a"], 10), F(["d", "l"], 0, attr="l", **{"symlink path": ["a"]}), F(["to-dir"], 0, attr="l", **{"symlink path": ["d"]})])),
       "v1", "t", 1, [f("t/d/a", 10, 0), f("t/d/l", 0, 10, target="d/a"), f("t/to-dir", 0, 10, target="d")])
_framework = [
    F(["SDL2"], 0, attr="l", **{"symlink path": ["Versions", "Current", "SDL2"]}),
    F(["Versions", "A", "SDL2"], 100),
    F(["Versions", "Current"], 0, attr="l", **{"symlink path": ["Versions", "A"]}),
]
loaded("symlink-through-link.torrent", LT + "symlink2.torrent, overlapping_symlinks.torrent", "a target reached through another link of the torrent",
       torrent(v1(_framework, name="Some.framework")), "v1", "Some.framework", 1,
       [f("Some.framework/SDL2", 0, 0, target="Versions/Current/SDL2"), f("Some.framework/Versions/A/SDL2", 100, 0),
        f("Some.framework/Versions/Current", 0, 100, target="Versions/A")])
loaded("v2-symlinks.torrent", LT + "v2_symlinks.torrent", "v2 'attr l' entries with 'symlink path' are symlinks (no length, no root)",
       torrent(v2({"SDL2": {"": {"attr": "l", "symlink path": ["Versions", "Current", "SDL2"]}},
                   "Versions": {"A": {"SDL2": leaf(100, "sdl")}, "Current": {"": {"attr": "l", "symlink path": ["Versions", "A"], "length": 9}}}},
                  name="SDL2.framework")), "v2", "SDL2.framework", 1,
       [f("SDL2.framework/SDL2", 0, 0, target="Versions/Current/SDL2"), f("SDL2.framework/Versions/A/SDL2", 100, 0),
        f("SDL2.framework/Versions/Current", 0, 100, target="Versions/A")])
loaded("v2-symlink-without-target.torrent", OWN, "a v2 'attr l' entry without 'symlink path' is an empty file",
       torrent(v2({"a": leaf(10), "l": {"": {"attr": "l"}}})), "v2", "t", 1, [f("t/a", 10, 0), f("t/l", 0, 10)])

# --- v2 file trees -------------------------------------------------------------------------------------------
refused("v2-pad-attribute.torrent", LT + "v2_invalid_pad_file.torrent", "a pad attribute on a v2 file",
        torrent(v2({"a": leaf(10, attr="p"), "b": leaf(10, "b")})), "InvalidValue")
refused("v2-zero-root.torrent", LT + "v2_zero_root.torrent", "an all-zero 'pieces root'",
        torrent(v2({"a": {"": {"length": 40000, "pieces root": bytes(32)}}, "b": leaf(10, "b")})), "InvalidValue")
refused("v2-zero-root-small.torrent", LT + "v2_zero_root_small.torrent", "an all-zero 'pieces root' of a one-block file",
        torrent(v2({"a": {"": {"length": 10, "pieces root": bytes(32)}}})), "InvalidValue")
loaded("v2-zero-root-empty-file.torrent", OWN, "an empty file's all-zero root is never read",
       torrent(v2({"a": {"": {"length": 0, "pieces root": bytes(32)}}, "b": leaf(10, "b")})), "v2", "t", 1, [f("t/a", 0, 0), f("t/b", 10, 0)])
refused("v2-unordered-keys.torrent", LT + "v2_unordered_files.torrent", "file tree keys out of order in a v2 info dictionary",
        torrent(v2(Pairs([(b"b", leaf(10, "b")), (b"a", leaf(10))]))), "InvalidBencode")
refused("v2-overlong-integer.torrent", LT + "v2_overlong_integer.torrent", "a leading zero in a v2 info dictionary's integer",
        torrent(v2({"a": leaf(10)}, **{"x-extra": Raw(b"i010e")})), "InvalidBencode")
refused("v2-repeated-key.torrent", OWN, "a repeated key in a v2 info dictionary",
        torrent(Raw(b"d9:file treed1:ad0:d6:lengthi10e11:pieces root32:" + root("a") + b"eee12:meta versioni2e4:name1:t4:name1:u"
                    + b"12:piece lengthi16384ee")), "InvalidBencode")
loaded("v2-negative-zero.torrent", OWN, "'i-0e' is no soft error to libtorrent, even in a v2 info dictionary",
       torrent(v2({"a": leaf(10)}, **{"x-extra": Raw(b"i-0e")})), "v2", "a", 1, [f("a", 10, 0)])
loaded("v2-invalid-filename.torrent", LT + "v2_invalid_filename.torrent", "a single-file v2 key with an invalid byte",
       torrent(v2({b"\xffestMB": leaf(10)}, name="testMB")), "v2", "_estMB", 1, [f("_estMB", 10, 0)])
loaded("v2-single-file-key.torrent", OWN, "a single-file v2 torrent is named by its key, not by 'name'",
       torrent(v2({"other.bin": leaf(10)}, name="name.bin")), "v2", "other.bin", 1, [f("other.bin", 10, 0)])
loaded("v2-dropped-keys.torrent", OWN, "keys '.', '..' and '/': folders merge into the parent, '/' alone is '_'",
       torrent(v2({"..": {"x": leaf(10)}, "/": leaf(5, "s"), "d": {".": {"y": leaf(7, "y")}}})), "v2", "t", 3,
       [f("t/x", 10, 0), f("t/_", 5, PIECE), f("t/d/y", 7, 2 * PIECE)])
loaded("v2-file-named-dotdot.torrent", OWN, "a v2 file whose key is '..' takes the name folder's path: renamed beside it",
       torrent(v2({"..": leaf(10), "b": leaf(20, "b")})), "v2", "t", 2, [f("t.1", 10, 0), f("t/b", 20, PIECE)],
       libtorrent={"paths": ["t", "t/b"], "why": "libtorrent renames such a file only on its slow path, leaving a file where the name folder must be; PeerNet always takes the name folder first"})
loaded("v2-empty-folder.torrent", OWN, "an empty folder in a v2 file tree is skipped",
       torrent(v2({"a": leaf(10), "e": {"deeper": {}}, "z": leaf(5, "z")})), "v2", "t", 2, [f("t/a", 10, 0), f("t/z", 5, PIECE)])
loaded("v2-attributes.torrent", OWN, "executable and hidden attributes of v2 files",
       torrent(v2({"a": leaf(10, attr="xh"), "b": leaf(10, "b", attr="x")})), "v2", "t", 2, [f("t/a", 10, 0, "xh"), f("t/b", 10, PIECE, "x")])

# --- hybrids: both halves must agree -------------------------------------------------------------------------
_tree = {"a": leaf(10), "b": leaf(20, "b")}
_v1_padded = [F(["a"], 10), pad(PIECE - 10), F(["b"], 20), pad(PIECE - 20)]
loaded("hybrid.torrent", LT + "v2_hybrid.torrent", "a hybrid as libtorrent 2.0.8 writes it (a pad after every file)",
       torrent(hybrid(_v1_padded, _tree, pieces=2)), "hybrid", "t", 2,
       [f("t/a", 10, 0), f("t/.pad/16374", 16374, 10, "p"), f("t/b", 20, PIECE), f("t/.pad/16364", 16364, PIECE + 20, "p")])
loaded("hybrid-no-tail-pad.torrent", OWN, "a hybrid as libtorrent 2.0.0 to 2.0.7 wrote it (no pad after the last file)",
       torrent(hybrid(_v1_padded[:-1], _tree, pieces=2)), "hybrid", "t", 2,
       [f("t/a", 10, 0), f("t/.pad/16374", 16374, 10, "p"), f("t/b", 20, PIECE)])
loaded("hybrid-pad-names.torrent", OWN, "v1 pad files named otherwise: the pads take the names libtorrent gives them",
       torrent(hybrid([F(["a"], 10), pad(PIECE - 10, ["zz"]), F(["b"], 20)], _tree, pieces=2)), "hybrid", "t", 2,
       [f("t/a", 10, 0), f("t/.pad/16374", 16374, 10, "p"), f("t/b", 20, PIECE)])
loaded("hybrid-empty-files.torrent", LT + "empty-files-1.torrent … empty-files-5.torrent", "empty files in a hybrid, after the last pad",
       torrent(hybrid(_v1_padded + [F(["e"], 0)], {"a": leaf(10), "b": leaf(20, "b"), "e": leaf(0)}, pieces=2)), "hybrid", "t", 2,
       [f("t/a", 10, 0), f("t/.pad/16374", 16374, 10, "p"), f("t/b", 20, PIECE), f("t/.pad/16364", 16364, PIECE + 20, "p"), f("t/e", 0, 2 * PIECE)])
loaded("hybrid-renamed.torrent", OWN, "halves compared before renaming: both say 'a/b' and 'ab', the second is renamed",
       torrent(hybrid([F(["a/b"], 10), pad(PIECE - 10), F(["ab"], 20)], {"a/b": leaf(10), "ab": leaf(20, "b")}, pieces=2)), "hybrid", "t", 2,
       [f("t/ab", 10, 0), f("t/.pad/16374", 16374, 10, "p"), f("t/ab.1", 20, PIECE)])
loaded("hybrid-folder-of-one.torrent", OWN, "a folder holding one file: a v1 list beside a one-entry tree is multi-file",
       torrent(hybrid([F(["only.bin"], 10)], {"only.bin": leaf(10)}, name="folder")), "hybrid", "folder", 1, [f("folder/only.bin", 10, 0)])
refused("hybrid-name-mismatch.torrent", LT + "v2_mismatching_metadata.torrent", "a hybrid whose halves name a file differently",
        torrent(hybrid([F(["a"], 10), pad(PIECE - 10), F(["c"], 20)], _tree, pieces=2)), "Inconsistent")
refused("hybrid-size-mismatch.torrent", OWN, "a hybrid whose halves disagree on a size",
        torrent(hybrid([F(["a"], 10), pad(PIECE - 10), F(["b"], 21)], _tree, pieces=2)), "Inconsistent")
refused("hybrid-extra-v1-file.torrent", OWN, "a hybrid whose v1 half has a file the v2 half lacks",
        torrent(hybrid(_v1_padded + [F(["z"], 5)], _tree, pieces=3)), "Inconsistent")
refused("hybrid-bad-alignment.torrent", LT + "v2_bad_file_alignment.torrent", "a hybrid whose v1 half has no pad files",
        torrent(hybrid([F(["a"], 10), F(["b"], 20)], _tree, pieces=1)), "Inconsistent")
refused("hybrid-single-name-mismatch.torrent", OWN, "a single-file hybrid whose v2 key is not its 'name' (it was read from the v1 half)",
        torrent(hybrid(None, {"k.bin": leaf(10)}, name="n.bin", pieces=1, length=10)), "Inconsistent")
refused("hybrid-unsorted-info.torrent", OWN, "a hybrid whose info dictionary keys are out of order",
        torrent(Raw(benc(hybrid(_v1_padded, _tree, pieces=2))[:-1] + b"1:ai1ee")), "InvalidBencode")

# --- lax bencode, as libtorrent's bdecode reads a .torrent ----------------------------------------------------
def _raw_single(length=b"i10e", name=b"1:t", extra=b""):
    return Raw(b"d6:length" + length + b"4:name" + name + b"12:piece lengthi16384e6:pieces20:" + sha1s(1) + extra + b"e")


loaded("bencode-leading-zero.torrent", OWN, "'length' written i010e", torrent(_raw_single(length=b"i010e")), "v1", "t", 1, [f("t", 10, 0)])
loaded("bencode-negative-zero.torrent", OWN, "'private' written i-0e", torrent(_raw_single(extra=b"7:privatei-0e")), "v1", "t", 1, [f("t", 10, 0)])
loaded("bencode-string-length-zero.torrent", OWN, "'name' written 01:t", torrent(_raw_single(name=b"01:t")), "v1", "t", 1, [f("t", 10, 0)])
loaded("bencode-repeated-key.torrent", OWN, "'name' twice in a v1 info dictionary: the first counts",
       torrent(Raw(b"d6:lengthi10e4:name1:a4:name1:b12:piece lengthi16384e6:pieces20:" + sha1s(1) + b"e")), "v1", "a", 1, [f("a", 10, 0)])
loaded("bencode-trailing-bytes.torrent", OWN, "bytes after the root dictionary are ignored",
       torrent(v1_single("t", 10), tail=b"garbage\xff\x00d4:evil0:e"), "v1", "t", 1, [f("t", 10, 0)])
loaded("bencode-unordered.torrent", LT + "unordered.torrent", "keys out of order in a v1 info dictionary",
       torrent(Raw(b"d4:name1:t6:lengthi10e6:pieces20:" + sha1s(1) + b"12:piece lengthi16384ee")), "v1", "t", 1, [f("t", 10, 0)])
loaded("bencode-20-digits.torrent", OWN, "a 20-digit integer with leading zeros", torrent(_raw_single(length=b"i00000000000000000010e")),
       "v1", "t", 1, [f("t", 10, 0)])
refused("bencode-21-digits.torrent", OWN, "a 21-digit integer (libtorrent's bdecode calls it an overflow)",
        torrent(_raw_single(length=b"i000000000000000000010e")), "InvalidBencode")

# --- piece lengths -----------------------------------------------------------------------------------------
loaded("piece-length-256-mib.torrent", OWN, "256 MiB pieces (over PeerNet's old 128 MiB limit)",
       torrent(v1_single("t", 10, piece=256 << 20)), "v1", "t", 1, [f("t", 10, 0)], piece=256 << 20)
loaded("piece-length-max.torrent", OWN, "pieces of 2^30 - 1 bytes, libtorrent's largest",
       torrent(v1_single("t", 10, piece=(1 << 30) - 1)), "v1", "t", 1, [f("t", 10, 0)], piece=(1 << 30) - 1)
refused("piece-length-over-max.torrent", OWN, "pieces of 2^30 bytes", torrent(v1_single("t", 10, piece=1 << 30)), "InvalidValue")

# --- meta version ------------------------------------------------------------------------------------------
loaded("meta-version-1.torrent", OWN, "'meta version' 1 reads as v1", torrent(v1_single("t", 10, **{"meta version": 1})), "v1", "t", 1,
       [f("t", 10, 0)])
refused("meta-version-3.torrent", OWN, "'meta version' 3", torrent(v2({"a": leaf(10)}, **{"meta version": 3})), "UnsupportedVersion")
refused("file-tree-without-meta-version.torrent", OWN, "a 'file tree' in a v1 torrent",
        torrent(hybrid([F(["a"], 10)], {"a": leaf(10)}, **{"meta version": 1})), "Inconsistent")

# --- deliberate differences --------------------------------------------------------------------------------
loaded("windows-unsafe-names.torrent", OWN, "names Windows cannot hold: ':', device names, trailing dots",
       torrent(v1([F(["a:b"], 1), F(["CON"], 2), F(["x."], 3), F(["a_b"], 4)])), "v1", "t", 1,
       [f("t/a_b", 1, 0), f("t/_CON", 2, 1), f("t/x_", 3, 3), f("t/a_b.1", 4, 6)],
       libtorrent={"paths": ["t/a:b", "t/CON", "t/x.", "t/a_b"], "why": "PeerNet applies its Windows rules on every OS, so a torrent safe here is safe everywhere; libtorrent on Linux keeps these names"})
refused("non-ascii-case.torrent", OWN, "'É' and 'é': distinct to libtorrent, one file on Windows and macOS",
        torrent(v1([F(["\u00c9"], 1), F(["\u00e9"], 2)])), "DuplicatePath",
        libtorrent={"paths": ["t/\u00c9", "t/\u00e9"], "why": "libtorrent compares names ignoring ASCII case only; PeerNet refuses what would be one file on Windows and macOS"})
refused("only-pad-files.torrent", OWN, "a torrent of nothing but pad files", torrent(v1([pad(10), pad(20)])), "InvalidValue",
        libtorrent={"loads": True, "why": "libtorrent counts pad bytes as data; PeerNet refuses a torrent with no data to download"})


def main():
    for name in os.listdir(HERE):
        if name.endswith(".torrent"):
            os.remove(os.path.join(HERE, name))
    manifest = []
    for file, data, entry in CASES:
        with open(os.path.join(HERE, file), "wb") as out:
            out.write(data)
        manifest.append(entry)
    with open(os.path.join(HERE, "manifest.json"), "w") as out:
        json.dump(manifest, out, indent=1, ensure_ascii=True)
        out.write("\n")
    print(f"{len(manifest)} compat torrents ({sum(e['outcome'] == 'loaded' for e in manifest)} loaded), {sum(len(c[1]) for c in CASES)} bytes")


if __name__ == "__main__":
    main()
