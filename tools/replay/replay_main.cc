// dstream-replay: `curl ... | nc -lk 9999` as one tool. Serves the lines of files (or stdin,
// "-") over TCP with one shared cursor; see line_server.h for the exact semantics.
#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "common/cli.h"
#include "dstream/error.h"
#include "replay/line_server.h"
#include "util/file_io.h"

namespace {

volatile std::sig_atomic_t gSignal = 0;

void onSignal(int sig) { gSignal = sig; }

// Writes the port to `path` with dstream's atomic writer (temp name, fsync, rename), so a
// script that polls for the file never reads it half-written.
void writePortFile(const std::string& path, uint16_t port) {
  try {
    dstream::detail::writeFileAtomically(path, std::to_string(port) + "\n");
  } catch (const dstream::Error& e) {
    throw dstream::Error(dstream::ErrorCode::kNotFound,
                         "cannot write --port-file '" + path + "' (" +
                             std::string(dstream::detail::withoutDstreamPrefix(e.what())) +
                             "); check that its directory exists");
  }
}

}  // namespace

int main(int argc, char** argv) {
  using dstream::tools::decimalNumber;
  using dstream::tools::wholeNumber;
  CLI::App app{"dstream-replay: serve the lines of files or stdin over TCP, like `nc -lk PORT`"};
  dstream::tools::LineServerOptions o;
  o.port = 9999;
  std::vector<std::string> inputs;
  std::string portFile;
  double burstEvery = 0, stallSeconds = 10, burstAt = 0, burstSeconds = 0, duration = 0;
  std::string sentFile;
  bool quiet = false;
  app.add_option("inputs", inputs, "Files to serve in order; '-' = stdin")->required();
  app.add_option("--port,-p", o.port, "TCP port (default 9999; 0 = any free port)")
      ->check(wholeNumber(0, 65535));
  app.add_option("--host", o.host, "Address to bind (default 127.0.0.1: loopback only)");
  app.add_option("--port-file", portFile, "Write the bound port to FILE");
  app.add_option("--rate", o.rate, "Steady lines per second (default 0 = as fast as possible)")
      ->check(decimalNumber(0, 1e9));
  app.add_option("--burst", o.burst, "Lines released at once every --burst-every seconds")
      ->check(wholeNumber(0, 1'000'000'000));
  app.add_option("--burst-every", burstEvery, "Seconds between bursts")
      ->check(decimalNumber(0, 86400, /*minAllowed=*/false));
  app.add_option("--burst-rate", o.burstRate,
                 "Lines per second during a burst of --burst-seconds, --burst-at seconds after pacing starts")
      ->check(decimalNumber(0, 1e9));
  app.add_option("--burst-at", burstAt, "Seconds from the start of pacing to the --burst-rate burst")
      ->check(decimalNumber(0, 86400));
  app.add_option("--burst-seconds", burstSeconds, "Length of the --burst-rate burst")
      ->check(decimalNumber(0, 86400));
  app.add_option("--duration", duration, "Send no line after S seconds of pacing, then finish as at the end of input")
      ->check(decimalNumber(0, 86400));
  app.add_option("--sent-file", sentFile, "At exit, write the number of lines sent to FILE");
  app.add_flag("--loop", o.loop, "Start again at the first line after the last");
  app.add_flag("--http-header", o.httpHeader, "Send an HTTP/1.1 200 header block to each client");
  app.add_option("--limit", o.limit, "Stop after N lines (default 0 = no limit)")
      ->check(wholeNumber(0, UINT64_MAX));
  app.add_flag("--exit-when-done", o.exitWhenDone, "Exit once the last line was sent");
  app.add_flag("--wait-for-client,!--no-wait-for-client", o.waitForClient,
               "Hold the cursor while no client is connected (default on)");
  app.add_option("--stall-timeout", stallSeconds,
                 "Drop a client that accepts nothing for S seconds while others wait (default 10)")
      ->check(decimalNumber(0, 86400, /*minAllowed=*/false));
  app.add_flag("--quiet,-q", quiet, "No connect/disconnect log lines");
  CLI11_PARSE(app, argc, argv);

  o.files.assign(inputs.begin(), inputs.end());
  o.burstEvery = std::chrono::duration<double>(burstEvery);
  o.burstAt = std::chrono::duration<double>(burstAt);
  o.burstLength = std::chrono::duration<double>(burstSeconds);
  o.duration = std::chrono::duration<double>(duration);
  o.stallTimeout = std::chrono::milliseconds(static_cast<int64_t>(stallSeconds * 1000));
  o.log = !quiet;
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  try {
    dstream::tools::LineServer server(o);
    server.start();
    std::fprintf(stderr, "dstream-replay: listening on %s:%u\n", o.host.c_str(),
                 static_cast<unsigned>(server.port()));
    if (!portFile.empty()) writePortFile(portFile, server.port());
    using namespace std::chrono_literals;
    while (gSignal == 0) {
      if (server.waitForDone(100ms)) {
        if (o.exitWhenDone) break;
        std::this_thread::sleep_for(100ms);  // done, but keep serving until a signal
      }
    }
    server.stop();
    // Atomically written, like the port file: a script reading it never sees half a number.
    if (!sentFile.empty()) dstream::detail::writeFileAtomically(sentFile, std::to_string(server.linesSent()) + "\n");
  } catch (const std::exception& e) {
    dstream::tools::printError("dstream-replay", e);
    return 1;
  }
  return 0;
}
