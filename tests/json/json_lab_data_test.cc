// dstream::json over the lab's real Meetup RSVP files, checked against simdjson used directly
// and against figures measured by hand with Python's json module:
//   python3 -c 'import json,sys; ls=open(sys.argv[1]).read().splitlines();
//               print(len(ls), sum("venue" in json.loads(l) for l in ls))' meetup.data.N
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dstream/bad_records.h"
#include "dstream/json.h"

namespace dstream::json {
namespace {

struct LabFile {
  const char* name;
  std::int64_t lines;   // from Python, see above
  std::int64_t venues;  // lines whose object has a "venue" member, from Python
};

constexpr LabFile kLabFiles[] = {
    {"meetup.data.1", 200, 165}, {"meetup.data.2", 200, 169}, {"meetup.data.3", 200, 157},
    {"meetup.data.4", 200, 163}, {"meetup.data.5", 200, 170}, {"meetup.data.6", 162, 134},
};

std::vector<std::string> readLines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::vector<std::string> lines;
  std::string line;
  std::istringstream text(buffer.str());
  while (std::getline(text, line)) lines.push_back(line);
  return lines;
}

TEST(JsonLabDataTest, EveryMeetupLineParsesAndVenuesMatchAnIndependentParse) {
  const char* shared = std::getenv("DSTREAM_SHARED_DATA");
  std::filesystem::path dir = std::filesystem::path(shared ? shared : "") / "lab10";
  if (!shared || !std::filesystem::exists(dir / "meetup.data.1")) {
    GTEST_SKIP() << "lab data not found: set DSTREAM_SHARED_DATA to the directory holding "
                    "lab10/meetup.data.1..6 (ctest sets it to <repo>/../shared/data)";
  }
  std::atomic<std::int64_t> badRecords{0};
  detail::BadRecordScope scope(&badRecords);
  simdjson::dom::parser reference;
  std::int64_t totalLines = 0, totalVenues = 0;
  for (const LabFile& file : kLabFiles) {
    SCOPED_TRACE(file.name);
    std::vector<std::string> lines = readLines(dir / file.name);
    std::int64_t venues = 0, malformed = 0, named = 0;
    for (const std::string& line : lines) {
      auto record = Record::parse(line);
      if (!record) {
        ++malformed;
        continue;
      }
      simdjson::dom::element root = reference.parse(line);  // throws if json:: accepted junk
      simdjson::dom::element expected;
      bool hasVenue = !root["venue"].get(expected);
      ASSERT_EQ(record->has("venue"), hasVenue) << line;
      ASSERT_EQ(field(line, "venue").has_value(), hasVenue) << line;
      if (!hasVenue) continue;
      ++venues;
      // The raw text, parsed again, is the same value simdjson finds.
      std::string_view venue = *record->field("venue");
      simdjson::dom::parser again;
      EXPECT_EQ(simdjson::to_string(again.parse(std::string(venue)).value()),
                simdjson::to_string(expected));
      std::string_view name;
      if (!expected["venue_name"].get(name)) {
        ++named;
        EXPECT_EQ(record->getString("venue.venue_name"), std::string(name));
        EXPECT_EQ(record->getStringView("venue.venue_name"), name);
      }
    }
    std::printf("[ lab data ] %s: %zu lines, %lld with a venue (%lld named), %lld malformed\n",
                file.name, lines.size(), static_cast<long long>(venues),
                static_cast<long long>(named), static_cast<long long>(malformed));
    EXPECT_EQ(static_cast<std::int64_t>(lines.size()), file.lines);
    EXPECT_EQ(venues, file.venues);
    EXPECT_EQ(malformed, 0);
    totalLines += static_cast<std::int64_t>(lines.size());
    totalVenues += venues;
  }
  std::printf("[ lab data ] total: %lld lines, %lld with a venue, %lld bad records\n",
              static_cast<long long>(totalLines), static_cast<long long>(totalVenues),
              static_cast<long long>(badRecords.load()));
  EXPECT_EQ(totalLines, 1162);
  EXPECT_EQ(totalVenues, 958);
  EXPECT_EQ(badRecords.load(), 0);
}

}  // namespace
}  // namespace dstream::json
