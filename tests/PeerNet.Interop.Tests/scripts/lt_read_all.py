#!/usr/bin/python3
"""Read every .torrent in a folder as libtorrent does, as one JSON array on stdout.

usage: lt_read_all.py FOLDER

One entry per file, sorted by name: {file, error, name, info_hash_v1, info_hash_v2, piece_length, num_pieces,
files: [{path, size, offset, pad, symlink, executable, hidden, target}]}. A torrent libtorrent refuses has its
error message and nulls elsewhere. Hashes are lowercase hex, or null when the torrent lacks that version.
Paths and symlink targets are as libtorrent gives them ('/'-separated; targets start with the torrent's name).
For a v2-only torrent the list includes the pad files libtorrent synthesizes to align files.
"""
import json
import os
import sys

import libtorrent as lt


def read(path):
    try:
        ti = lt.torrent_info(path)
    except RuntimeError as e:
        return {"error": str(e) or type(e).__name__}
    hashes = ti.info_hashes()
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        flags = fs.file_flags(i)
        symlink = bool(flags & lt.file_storage.flag_symlink)
        files.append({
            "path": fs.file_path(i).replace("\\", "/"),
            "size": fs.file_size(i),
            "offset": fs.file_offset(i),
            "pad": bool(flags & lt.file_storage.flag_pad_file),
            "symlink": symlink,
            "executable": bool(flags & lt.file_storage.flag_executable),
            "hidden": bool(flags & lt.file_storage.flag_hidden),
            "target": fs.symlink(i).replace("\\", "/") if symlink else None,
        })
    return {
        "error": None,
        "name": ti.name(),
        "info_hash_v1": str(hashes.v1) if hashes.has_v1() else None,
        "info_hash_v2": str(hashes.v2) if hashes.has_v2() else None,
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "files": files,
    }


def main(argv):
    if len(argv) != 2:
        print("usage: lt_read_all.py FOLDER", file=sys.stderr)
        return 2
    entries = []
    for name in sorted(os.listdir(argv[1])):
        if name.endswith(".torrent"):
            entry = {"file": name, "error": None, "name": None, "info_hash_v1": None, "info_hash_v2": None,
                     "piece_length": 0, "num_pieces": 0, "files": None}
            entry.update(read(os.path.join(argv[1], name)))
            entries.append(entry)
    print(json.dumps(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
