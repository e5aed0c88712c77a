#!/usr/bin/python3
"""zfec's encode and decode throughput, timed as bench/native/isal_ec.c times ISA-L (see bench/erasure.sh).

zfec_bench.py K N SEGMENT ROUNDS  ->  {"k": K, "n": N, "encode": bytes/s, "decode": bytes/s}
"""
import json
import os
import sys
import time

import zfec


def best(rounds, work, size):
    rate = 0.0
    for _ in range(rounds):
        passes, start = 0, time.perf_counter()
        while True:
            work()
            passes += 1
            elapsed = time.perf_counter() - start
            if elapsed >= 0.2:
                break
        rate = max(rate, passes * size / elapsed)
    return rate


def main(k, n, segment, rounds):
    length = (segment + k - 1) // k
    blocks = [os.urandom(length) for _ in range(k)]
    encoder, decoder = zfec.Encoder(k, n), zfec.Decoder(k, n)
    shares = encoder.encode(blocks)
    lost = min(n - k, k)
    numbers = list(range(lost, k)) + list(range(k, k + lost))
    held = [shares[i] for i in numbers]
    assert [bytes(b) for b in decoder.decode(held, numbers)] == blocks
    encode = best(rounds, lambda: encoder.encode(blocks, list(range(k, n))), length * k)
    decode = best(rounds, lambda: decoder.decode(held, numbers), length * k) if lost else 0
    print(json.dumps({"k": k, "n": n, "encode": round(encode), "decode": round(decode)}))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:5]))
