#!/usr/bin/python3
"""Creates a torrent with libtorrent's create_torrent, for the creation benchmark.

usage: lt_create.py v1|v2|hybrid PIECE_SIZE SOURCE OUT
Prints the info-hashes so the benchmark can check every tool produced the same torrent.
"""
import sys

import libtorrent as lt

version, piece, source, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
flags = {"v1": lt.create_torrent.v1_only, "v2": lt.create_torrent.v2_only, "hybrid": 0}[version]
fs = lt.file_storage()
lt.add_files(fs, source)
ct = lt.create_torrent(fs, piece, flags=flags)
parent = source.rstrip("/").rsplit("/", 1)[0] or "/"
lt.set_piece_hashes(ct, parent)
with open(out, "wb") as f:
    f.write(lt.bencode(ct.generate()))
ih = lt.torrent_info(out).info_hashes()
print((str(ih.v1) if ih.has_v1() else "-") + " " + (str(ih.v2) if ih.has_v2() else "-"))
