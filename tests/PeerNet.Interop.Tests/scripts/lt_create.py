#!/usr/bin/python3
"""Create a .torrent with libtorrent, and print its info-hashes as JSON on stdout.

usage: lt_create.py --version v1|v2|hybrid --piece-size N --out FILE [--order FILE_LIST] SRC

SRC is a file (single-file torrent) or a folder (multi-file torrent named after it). With --order, FILE_LIST
holds one relative path per line, each starting with the torrent's name (as stored under SRC's parent
folder), and the files are added in that order (libtorrent keeps it for v1; v2 and hybrid torrents are
always put in canonical order by libtorrent). Without it, lt.add_files walks SRC. Output:
{info_hash_v1, info_hash_v2} (lowercase hex or null).
"""
import argparse
import json
import os
import sys

import libtorrent as lt

VERSION_FLAGS = {
    "v1": lt.create_torrent.v1_only,
    "v2": lt.create_torrent.v2_only,
    "hybrid": 0,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, choices=sorted(VERSION_FLAGS))
    parser.add_argument("--piece-size", required=True, type=int)
    parser.add_argument("--out", required=True)
    parser.add_argument("--order")
    parser.add_argument("src")
    args = parser.parse_args()

    src = os.path.abspath(args.src)
    parent = os.path.dirname(src)
    fs = lt.file_storage()
    if args.order:
        with open(args.order, encoding="utf-8") as f:
            paths = [line.rstrip("\n") for line in f if line.strip()]
        for rel in paths:
            full = os.path.join(parent, *rel.split("/"))
            flags = lt.file_storage.flag_executable if os.access(full, os.X_OK) else 0
            fs.add_file(rel, os.path.getsize(full), flags)
    else:
        lt.add_files(fs, src)
    if fs.num_files() == 0:
        print("no files in " + src, file=sys.stderr)
        return 1

    ct = lt.create_torrent(fs, args.piece_size, VERSION_FLAGS[args.version])
    lt.set_piece_hashes(ct, parent)
    data = lt.bencode(ct.generate())
    with open(args.out, "wb") as f:
        f.write(data)

    hashes = lt.torrent_info(data).info_hashes()
    print(json.dumps({
        "info_hash_v1": str(hashes.v1) if hashes.has_v1() else None,
        "info_hash_v2": str(hashes.v2) if hashes.has_v2() else None,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
