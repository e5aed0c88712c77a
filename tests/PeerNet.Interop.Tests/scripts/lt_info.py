#!/usr/bin/python3
"""Describe a .torrent as libtorrent sees it, as JSON on stdout.

usage: lt_info.py TORRENT

Output: {version, info_hash_v1, info_hash_v2, name, total_size, piece_space_size, piece_length, num_pieces,
files: [{path, size, pad, executable}]}. Hashes are lowercase hex, or null when the torrent lacks that
version. total_size excludes pad files; piece_space_size is libtorrent's total_size() (pads included).
Note: for a v2-only torrent libtorrent's file list contains pad files it synthesizes to align files; they
are not in the metainfo.
"""
import json
import sys

import libtorrent as lt


def main(argv):
    if len(argv) != 2:
        print("usage: lt_info.py TORRENT", file=sys.stderr)
        return 2
    ti = lt.torrent_info(argv[1])
    hashes = ti.info_hashes()
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        flags = fs.file_flags(i)
        files.append({
            "path": fs.file_path(i).replace("\\", "/"),
            "size": fs.file_size(i),
            "pad": bool(flags & lt.file_storage.flag_pad_file),
            "executable": bool(flags & lt.file_storage.flag_executable),
        })
    has_v1, has_v2 = hashes.has_v1(), hashes.has_v2()
    print(json.dumps({
        "version": "hybrid" if has_v1 and has_v2 else ("v2" if has_v2 else "v1"),
        "info_hash_v1": str(hashes.v1) if has_v1 else None,
        "info_hash_v2": str(hashes.v2) if has_v2 else None,
        "name": ti.name(),
        "total_size": sum(f["size"] for f in files if not f["pad"]),
        "piece_space_size": ti.total_size(),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "files": files,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
