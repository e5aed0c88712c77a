#!/usr/bin/python3
"""zfec as the oracle for PeerNet's Reed-Solomon coder.

encode K N DATA OUTDIR          split DATA into K equal blocks, write all N shares as OUTDIR/N (0..N-1)
decode K N OUTFILE SHARE:PATH.. rebuild the K data blocks from K shares (number:file) and write them, joined, to OUTFILE
Prints {"version": "..."} on success.
"""
import json
import os
import sys

import zfec


def main(argv):
    mode, k, n = argv[0], int(argv[1]), int(argv[2])
    if mode == "encode":
        data = open(argv[3], "rb").read()
        if len(data) % k:
            raise SystemExit(f"{len(data)} bytes do not split into {k} equal blocks")
        size = len(data) // k
        blocks = [data[i * size:(i + 1) * size] for i in range(k)]
        shares = zfec.Encoder(k, n).encode(blocks)
        for number, share in enumerate(shares):
            with open(os.path.join(argv[4], str(number)), "wb") as f:
                f.write(bytes(share))
    elif mode == "decode":
        pairs = [a.split(":", 1) for a in argv[4:]]
        numbers = [int(p[0]) for p in pairs]
        blocks = [open(p[1], "rb").read() for p in pairs]
        data = zfec.Decoder(k, n).decode(blocks, numbers)
        with open(argv[3], "wb") as f:
            for block in data:
                f.write(bytes(block))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps({"version": zfec.__version__}))


if __name__ == "__main__":
    main(sys.argv[1:])
