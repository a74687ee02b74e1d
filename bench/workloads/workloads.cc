#include "workloads.h"

namespace dstream::bench {

std::optional<Workload> parseWorkload(std::string_view name) {
  if (name == "grep") return Workload::kGrep;
  if (name == "wordcount") return Workload::kWordCount;
  if (name == "windowed") return Workload::kWindowed;
  if (name == "windowed-noinv") return Workload::kWindowedNoInv;
  if (name == "running") return Workload::kRunning;
  if (name == "mapwithstate") return Workload::kMapWithState;
  if (name == "ysb") return Workload::kYsb;
  if (name == "venue") return Workload::kVenue;
  if (name == "ysb-rbkaw") return Workload::kYsbEngineWindow;
  if (name == "venue-cbw") return Workload::kVenueEngineWindow;
  return std::nullopt;
}

DataKind dataFor(Workload w) {
  if (w == Workload::kYsb || w == Workload::kYsbEngineWindow) return DataKind::kYsb;
  if (w == Workload::kVenue || w == Workload::kVenueEngineWindow) return DataKind::kMeetup;
  return DataKind::kWRecords;
}

}  // namespace dstream::bench
