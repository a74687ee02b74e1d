// bench_mem: one workload, one thread count, pre-generated batches fed through queueStream
// under a ManualClock, next to the hand-written loop over the same batches. Prints one JSON
// object (the figures bench/run tabulates) and exits 1 if the checksums differ.
//
//   bench_mem --workload wordcount --threads 2 --records 200000 --batches 40 --vocab 10000
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_util.h"
#include "workloads.h"

namespace {

using namespace dstream::bench;

std::string jsonLine(const std::string& workload, const RunConfig& cfg, const Input& in,
                     const std::vector<RunResult>& engine, const std::vector<RunResult>& loop) {
  std::vector<double> es, ls;
  for (auto& r : engine) es.push_back(r.seconds);
  for (auto& r : loop) ls.push_back(r.seconds);
  double records = static_cast<double>(in.recordsPerBatch) * cfg.measured;
  double engineRps = records / median(es), loopRps = records / median(ls);
  return fmt::format(
      "{{\"workload\":\"{}\",\"threads\":{},\"records_per_batch\":{},\"batch_bytes\":{},\"vocab\":{},"
      "\"window_batches\":{},\"measured_batches\":{},\"warmup_batches\":{},\"runs\":{},"
      "\"engine_rps\":{:.0f},\"engine_rps_per_core\":{:.0f},\"loop_rps\":{:.0f},\"ratio\":{:.3f},"
      "\"engine_ms_per_batch\":{:.2f},\"loop_ms_per_batch\":{:.2f},\"peak_rss_mib\":{:.0f},"
      "\"keys\":{},\"state_keys\":{},\"outputs\":{},\"checksum\":\"{:016x}\",\"checkpoint\":{}}}",
      workload, cfg.threads, in.recordsPerBatch, in.bytesPerBatch(), in.vocab, cfg.windowBatches, cfg.measured,
      cfg.warmup, engine.size(), engineRps, engineRps / cfg.threads, loopRps, engineRps / loopRps,
      1000 * median(es) / cfg.measured, 1000 * median(ls) / cfg.measured, peakRssMiB(), engine.back().keys,
      cfg.stateKeys, engine.back().outputs, engine.back().checksum, cfg.checkpointDir.empty() ? "false" : "true");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dstream in-memory workload benchmark (dstream vs a hand-written loop)"};
  std::string workloadName = "wordcount";
  RunConfig cfg;
  std::size_t records = 200000, pool = 4;
  std::uint64_t vocab = 10000;
  int runs = 3;
  bool checkpoint = false;
  std::string checkpointRoot = std::filesystem::temp_directory_path() / "dstream-bench-ckpt";
  app.add_option("--workload", workloadName, "grep|wordcount|windowed|windowed-noinv|running|mapwithstate|ysb|venue")->required();
  app.add_option("--threads", cfg.threads, "worker threads: local[N]")->check(CLI::Range(1, 64));
  app.add_option("--records", records, "records per 1 s batch")->check(CLI::PositiveNumber);
  app.add_option("--batches", cfg.measured, "timed batches per run")->check(CLI::PositiveNumber);
  app.add_option("--warmup", cfg.warmup, "untimed batches first")->check(CLI::NonNegativeNumber);
  app.add_option("--window", cfg.windowBatches, "window length in 1 s batches (windowed)")->check(CLI::PositiveNumber);
  app.add_option("--vocab", vocab, "W-record vocabulary size")->check(CLI::PositiveNumber);
  app.add_option("--pool", pool, "distinct pre-generated batches to cycle through")->check(CLI::PositiveNumber);
  app.add_option("--runs", runs, "runs; the median is reported")->check(CLI::PositiveNumber);
  app.add_flag("--checkpoint", checkpoint, "running: checkpoint, state every 10 batches");
  app.add_option("--state-keys", cfg.stateKeys, "running, mapwithstate: keys in the state before the first batch")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint-root", checkpointRoot, "where checkpoint directories go");
  CLI11_PARSE(app, argc, argv);

  auto workload = parseWorkload(workloadName);
  if (!workload) {
    std::fprintf(stderr, "bench_mem: unknown workload '%s'\n", workloadName.c_str());
    return 2;
  }
  Input in = makeInput(dataFor(*workload), records, pool, vocab);
  std::vector<RunResult> engine, loop;
  for (int i = 0; i < runs; ++i) {
    if (checkpoint) {
      cfg.checkpointDir = checkpointRoot + "/run" + std::to_string(i);
      std::filesystem::remove_all(cfg.checkpointDir);
    }
    engine.push_back(runEngine(*workload, in, cfg));
    if (checkpoint) std::filesystem::remove_all(cfg.checkpointDir);
    loop.push_back(runLoop(*workload, in, cfg));
    if (engine.back().checksum != loop.back().checksum || engine.back().outputs != loop.back().outputs) {
      std::fprintf(stderr,
                   "bench_mem: CHECKSUM MISMATCH in %s (threads %d, run %d): dstream %016llx over %llu outputs, "
                   "loop %016llx over %llu outputs\n",
                   workloadName.c_str(), cfg.threads, i, static_cast<unsigned long long>(engine.back().checksum),
                   static_cast<unsigned long long>(engine.back().outputs),
                   static_cast<unsigned long long>(loop.back().checksum),
                   static_cast<unsigned long long>(loop.back().outputs));
      return 1;
    }
  }
  std::printf("%s\n", jsonLine(workloadName, cfg, in, engine, loop).c_str());
  return 0;
}
