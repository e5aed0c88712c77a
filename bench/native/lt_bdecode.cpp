// Times libtorrent's lt::bdecode() on one file: the parser libtorrent's blog measured at 887 ns per torrent.
// Built and run by bench/bdecode.sh against the same sample torrent PeerNet's BencodeBenchmarks parse.
#include <libtorrent/bdecode.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv)
{
    if (argc != 2) { std::fprintf(stderr, "usage: lt_bdecode FILE\n"); return 2; }
    std::ifstream in(argv[1], std::ios::binary);
    std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    lt::bdecode_node node;
    lt::error_code ec;
    int pos = 0;
    // Reusing one node across iterations is libtorrent's own fast path (its token vector keeps its capacity).
    auto run = [&](int n) {
        long tokens = 0;
        for (int i = 0; i < n; ++i) {
            lt::bdecode(buf.data(), buf.data() + buf.size(), node, ec, &pos, 100, 2000000);
            if (ec) { std::fprintf(stderr, "bdecode failed: %s\n", ec.message().c_str()); std::exit(1); }
            tokens += node.dict_size();
        }
        return tokens;
    };
    run(20000); // warm-up
    double best = 1e18;
    for (int round = 0; round < 10; ++round) {
        const int n = 100000;
        auto t0 = std::chrono::steady_clock::now();
        volatile long sink = run(n);
        (void)sink;
        auto t1 = std::chrono::steady_clock::now();
        double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / n;
        if (ns < best) best = ns;
    }
    std::printf("%.1f\n", best);
    return 0;
}
