// dstream-gen: writes deterministic W-records, Meetup RSVPs or YSB events to stdout or files.
// Files are written under a temporary dot-name, fsynced and renamed into place, so a directory
// watched by a file stream never sees half a file.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/cli.h"
#include "datagen/datagen.h"
#include "dstream/error.h"
#include "util/file_io.h"

namespace {

namespace fs = std::filesystem;
namespace dg = dstream::datagen;
using dstream::detail::FileDescriptor;
using dstream::tools::wholeNumber;

// A trillion records is 100 TB of W-records: anything above is a typo, not a benchmark.
constexpr uint64_t kMaxCount = 1'000'000'000'000;
constexpr uint64_t kMaxFirst = uint64_t{1} << 62;  // first + count stays far from overflow

// Appends records [first, first + n) to the buffer.
using Generator = std::function<void(std::string&, uint64_t, uint64_t)>;

// Streams records [first, first + n) to `out` in chunks of `chunk` records.
void emit(FileDescriptor& out, const Generator& gen, uint64_t first, uint64_t n, uint64_t chunk) {
  std::string buf;
  for (uint64_t at = first; at < first + n; at += chunk) {
    buf.clear();
    gen(buf, at, std::min(chunk, first + n - at));
    out.writeAll(buf);
  }
}

// Writes `path` with dstream's atomic writer (temp name, fsync, rename), so that a directory
// watched by a file stream never sees half a file; a missing directory gets the tool's advice.
void writeOutputFile(const fs::path& path, const std::function<void(FileDescriptor&)>& write) {
  try {
    dstream::detail::writeFileAtomically(path, write);
  } catch (const dstream::Error& e) {
    if (e.code() != dstream::ErrorCode::kNotFound) throw;
    throw dstream::Error(dstream::ErrorCode::kNotFound,
                         "cannot create output file '" + path.string() + "': " +
                             std::strerror(ENOENT) + "; check that the directory exists");
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dstream-gen: deterministic test and benchmark data (same arguments, same bytes)"};
  app.require_subcommand(1);
  std::string output;
  uint64_t files = 1;
  app.add_option("--output,-o", output, "Write to FILE (temp name, then rename) instead of stdout");
  app.add_option("--files", files, "Split the records over K files named <output>.0 .. <output>.K-1")
      ->check(wholeNumber(1, 100000));

  uint64_t count = 0, first = 0, vocab = dg::kWDefaultVocab, seed = 1;
  uint64_t eventsPerSecond = dg::kYsbDefaultEventsPerSecond;
  int64_t startMs = dg::kMeetupDefaultStartMtimeMs;
  std::string campaignsOut;
  auto common = [&](CLI::App* sub) {
    sub->fallthrough();  // --output and --files may also follow the subcommand
    sub->add_option("--count,-n", count, "Number of records (at most 10^12)")
        ->required()
        ->check(wholeNumber(0, kMaxCount));
    sub->add_option("--first", first, "Index of the first record (default 0)")
        ->check(wholeNumber(0, kMaxFirst));
  };
  CLI::App* wrec = app.add_subcommand("wrecords", "100-byte records of 10 nine-letter words");
  common(wrec);
  wrec->add_option("--vocab", vocab, "Vocabulary size V (default 10000)")
      ->check(wholeNumber(0, UINT64_MAX));
  CLI::App* meetup = app.add_subcommand("meetup", "Meetup RSVP JSON lines like the lab's data");
  common(meetup);
  meetup->add_option("--seed", seed, "PRNG seed (default 1)")->check(wholeNumber(0, UINT64_MAX));
  meetup->add_option("--start-mtime", startMs, "mtime of record 0 in ms since the epoch");
  CLI::App* ysb = app.add_subcommand("ysb", "Yahoo streaming benchmark ad events (JSON lines)");
  common(ysb);
  ysb->add_option("--seed", seed, "PRNG seed (default 1)")->check(wholeNumber(0, UINT64_MAX));
  ysb->add_option("--start-time", startMs, "event_time of event 0 in ms since the epoch");
  ysb->add_option("--events-per-second", eventsPerSecond, "Event-time rate (default 10000)")
      ->check(wholeNumber(1, 1'000'000'000));
  ysb->add_option("--campaigns-out", campaignsOut, "Write the ad_id,campaign_id table to FILE");
  if (auto name = dstream::tools::unknownSubcommand(argc, argv, {"wrecords", "meetup", "ysb"},
                                                    {"--output", "-o", "--files"})) {
    std::fprintf(stderr, "dstream-gen: unknown subcommand '%s'; use wrecords, meetup or ysb (see --help)\n",
                 name->c_str());
    return 1;
  }
  CLI11_PARSE(app, argc, argv);

  try {
    if (files > 1 && output.empty()) {
      throw dstream::Error(dstream::ErrorCode::kInvalidArgument,
                           "--files " + std::to_string(files) + " needs --output FILE to name them");
    }
    Generator gen;
    uint64_t chunk = 10000;
    if (wrec->parsed()) {
      auto records = std::make_shared<dg::WRecords>(vocab);
      gen = [records](std::string& b, uint64_t f, uint64_t n) { records->append(b, f, n); };
      chunk = 65536;
    } else if (meetup->parsed()) {
      gen = [=](std::string& b, uint64_t f, uint64_t n) {
        dg::appendMeetupRecords(b, seed, f, n, startMs);
      };
    } else {
      if (!ysb->count("--start-time")) startMs = dg::kYsbDefaultStartTimeMs;
      gen = [=](std::string& b, uint64_t f, uint64_t n) {
        dg::appendYsbEvents(b, seed, f, n, startMs, eventsPerSecond);
      };
      if (!campaignsOut.empty()) {
        writeOutputFile(campaignsOut, [&](FileDescriptor& fd) {
          std::string table;
          for (const dg::YsbAd& ad : dg::ysbAds(seed)) table += ad.adId + ',' + ad.campaignId + '\n';
          fd.writeAll(table);
        });
      }
    }
    if (output.empty()) {
      // A duplicate, so that closing it leaves stdout open.
      FileDescriptor out(::dup(STDOUT_FILENO), "stdout");
      emit(out, gen, first, count, chunk);
    } else if (files == 1) {
      writeOutputFile(output, [&](FileDescriptor& fd) { emit(fd, gen, first, count, chunk); });
    } else {
      for (uint64_t k = 0; k < files; ++k) {
        uint64_t begin = first + count * k / files, end = first + count * (k + 1) / files;
        std::string name = output + "." + std::to_string(k);
        writeOutputFile(name, [&](FileDescriptor& fd) { emit(fd, gen, begin, end - begin, chunk); });
      }
    }
  } catch (const std::exception& e) {
    dstream::tools::printError("dstream-gen", e);
    return 1;
  }
  return 0;
}
