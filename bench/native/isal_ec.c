// Intel ISA-L's Reed-Solomon (ec_encode_data, its AVX2/AVX-512/GFNI kernels chosen at run time) timed the way
// bench/erasure.sh times PeerNet and zfec: K data blocks making a segment of SEGMENT bytes, N-K parity blocks
// coded, then the K data blocks rebuilt from shares that lose the first min(N-K, K) of them; best of ROUNDS
// passes of about 0.2 s each. Prints one JSON line: data bytes per second of one core, encode and decode.
//
//   isal_ec K N SEGMENT ROUNDS
#include <isa-l/erasure_code.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: isal_ec K N SEGMENT ROUNDS\n"); return 2; }
    int k = atoi(argv[1]), n = atoi(argv[2]), segment = atoi(argv[3]), rounds = atoi(argv[4]);
    int m = n - k, len = (segment + k - 1) / k;
    unsigned char *matrix = malloc(n * k), *tables = malloc(32 * k * m);
    unsigned char **blocks = malloc(sizeof(void *) * n);
    for (int i = 0; i < n; i++) {
        blocks[i] = aligned_alloc(64, (len + 63) / 64 * 64);
        for (int j = 0; j < len; j++) blocks[i][j] = (unsigned char)rand();
    }
    gf_gen_rs_matrix(matrix, n, k); // systematic Vandermonde-based, like zfec's
    ec_init_tables(k, m, &matrix[k * k], tables);

    double best_encode = 0;
    for (int r = 0; r < rounds; r++) {
        int passes = 0;
        double start = now(), elapsed;
        do { ec_encode_data(len, k, m, tables, blocks, &blocks[k]); passes++; } while ((elapsed = now() - start) < 0.2);
        double rate = (double)passes * len * k / elapsed;
        if (rate > best_encode) best_encode = rate;
    }

    // Decode: lose the first `lost` data blocks, hold the rest of the data and the first `lost` parity blocks.
    int lost = m < k ? m : k;
    unsigned char *held = malloc(k * k), *inverse = malloc(k * k), *rows = malloc(k * lost), *dtables = malloc(32 * k * lost);
    unsigned char **sources = malloc(sizeof(void *) * k), **targets = malloc(sizeof(void *) * lost);
    for (int i = 0; i < k; i++) {
        int share = i < k - lost ? lost + i : k + (i - (k - lost));
        memcpy(&held[i * k], &matrix[share * k], k);
        sources[i] = blocks[share];
    }
    if (gf_invert_matrix(held, inverse, k) != 0) { fprintf(stderr, "singular\n"); return 1; }
    for (int d = 0; d < lost; d++) {
        memcpy(&rows[d * k], &inverse[d * k], k);
        targets[d] = aligned_alloc(64, (len + 63) / 64 * 64);
    }
    ec_init_tables(k, lost, rows, dtables);
    double best_decode = 0;
    for (int r = 0; r < rounds && lost > 0; r++) {
        int passes = 0;
        double start = now(), elapsed;
        do {
            // The inverse and its tables are per loss pattern: count them in, as PeerNet's Decode does.
            gf_invert_matrix(held, inverse, k);
            ec_init_tables(k, lost, rows, dtables);
            ec_encode_data(len, k, lost, dtables, sources, targets);
            passes++;
        } while ((elapsed = now() - start) < 0.2);
        double rate = (double)passes * len * k / elapsed;
        if (rate > best_decode) best_decode = rate;
    }
    for (int d = 0; d < lost; d++)
        if (memcmp(targets[d], blocks[d], len) != 0) { fprintf(stderr, "decode mismatch\n"); return 1; }
    printf("{\"k\": %d, \"n\": %d, \"encode\": %.0f, \"decode\": %.0f}\n", k, n, best_encode, best_decode);
    return 0;
}
