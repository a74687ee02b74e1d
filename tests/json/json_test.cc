#include "dstream/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "dstream/bad_records.h"
#include "dstream/error.h"

namespace dstream::json {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

// Counts the bad records reported on this thread while it lives, both through a batch
// counter (exact, like the engine's) and through the process-wide total.
class BadRecordCount {
 public:
  BadRecordCount() : scope_(&counter_), totalBefore_(totalBadRecords()) {}
  std::int64_t count() const { return counter_.load(); }
  std::int64_t totalDelta() const { return totalBadRecords() - totalBefore_; }

 private:
  std::atomic<std::int64_t> counter_{0};
  detail::BadRecordScope scope_;
  std::int64_t totalBefore_;
};

// A shortened Meetup RSVP with every JSON type in it.
constexpr std::string_view kRsvp =
    R"({"venue":{"venue_name":"Couchbase San Francisco","lon":-122.397354,"lat":37.790005,)"
    R"("venue_id":21741962},"visibility":"public","guests":0,"member":{"member_id":8301128,)"
    R"("photo":"http:\/\/photos3.meetupstatic.com\/x.jpeg","member_name":"Che Hsu"},)"
    R"("event":{"event_id":"226259580"},"group":{"group_topics":[{"urlkey":"java",)"
    R"("topic_name":"Java"},{"urlkey":"php","topic_name":"PHP"}],"group_city":"San Francisco",)"
    R"("group_lat":37.75},"flag":true,"off":false,"nothing":null})";

bool pointsInto(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

TEST(JsonFieldTest, ReturnsTheRawTextOfAnObjectAsAViewIntoTheLine) {
  auto venue = field(kRsvp, "venue");
  ASSERT_TRUE(venue);
  EXPECT_EQ(*venue, R"({"venue_name":"Couchbase San Francisco","lon":-122.397354,"lat":37.790005,)"
                    R"("venue_id":21741962})");
  EXPECT_TRUE(pointsInto(*venue, kRsvp));
}

TEST(JsonFieldTest, FollowsNestedPathsAndArrayIndexes) {
  EXPECT_THAT(field(kRsvp, "venue.venue_name"),
              Optional(std::string_view("\"Couchbase San Francisco\"")));
  EXPECT_THAT(field(kRsvp, "venue.lat"), Optional(std::string_view("37.790005")));
  EXPECT_THAT(field(kRsvp, "group.group_city"), Optional(std::string_view("\"San Francisco\"")));
  EXPECT_THAT(field(kRsvp, "group.group_topics.1.topic_name"),
              Optional(std::string_view("\"PHP\"")));
  EXPECT_THAT(field(kRsvp, "group.group_topics.0"),
              Optional(std::string_view(R"({"urlkey":"java","topic_name":"Java"})")));
  EXPECT_THAT(field(kRsvp, "group.group_lat"), Optional(std::string_view("37.75")));
  // Raw text keeps escapes exactly as the line has them.
  EXPECT_THAT(field(kRsvp, "member.photo"),
              Optional(std::string_view(R"("http:\/\/photos3.meetupstatic.com\/x.jpeg")")));
  EXPECT_THAT(field(kRsvp, "flag"), Optional(std::string_view("true")));
  EXPECT_THAT(field(kRsvp, "nothing"), Optional(std::string_view("null")));
}

TEST(JsonFieldTest, HandlesWhitespaceAndBracesInsideStrings) {
  constexpr std::string_view kLine =
      R"(  { "a" : [ 1 , {"b" : "x}]y"} ] , "c" : "q\"}" , "d":-1.5e3 }  )";
  EXPECT_THAT(field(kLine, "a"), Optional(std::string_view(R"([ 1 , {"b" : "x}]y"} ])")));
  EXPECT_THAT(field(kLine, "a.0"), Optional(std::string_view("1")));
  EXPECT_THAT(field(kLine, "a.1.b"), Optional(std::string_view(R"("x}]y")")));
  EXPECT_THAT(field(kLine, "c"), Optional(std::string_view(R"("q\"}")")));
  EXPECT_THAT(field(kLine, "d"), Optional(std::string_view("-1.5e3")));
}

TEST(JsonFieldTest, TellsEscapedQuotesFromEscapedBackslashes) {
  constexpr std::string_view kLine = R"({"a":"x\\","b":"\\\"q","o":{"k":"}\\"},"c":2})";
  EXPECT_THAT(field(kLine, "a"), Optional(std::string_view(R"("x\\")")));
  EXPECT_THAT(field(kLine, "b"), Optional(std::string_view(R"("\\\"q")")));
  EXPECT_THAT(field(kLine, "o"), Optional(std::string_view(R"({"k":"}\\"})")));
  EXPECT_THAT(field(kLine, "c"), Optional(std::string_view("2")));
  EXPECT_THAT(getString(kLine, "b"), Optional(std::string("\\\"q")));
}

TEST(JsonFieldTest, MatchesEscapedKeysAndTakesTheFirstOfDuplicates) {
  constexpr std::string_view kLine = R"({"k\u0065y":1,"key":2,"x":{"a":"first","a":"second"}})";
  EXPECT_THAT(field(kLine, "key"), Optional(std::string_view("1")));
  EXPECT_THAT(field(kLine, "x.a"), Optional(std::string_view("\"first\"")));
  EXPECT_THAT(getString(kLine, "x.a"), Optional(std::string("first")));
  // has() and the typed getters follow the same members without scanning the line.
  EXPECT_THAT(getInt64(kLine, "key"), Optional(1));
  EXPECT_TRUE(has(kLine, "k\x65y"));
  auto record = Record::parse(kLine);
  ASSERT_TRUE(record);
  EXPECT_THAT(record->getStringView("x.a"), Optional(std::string_view("first")));
}

TEST(JsonFieldTest, AbsentPathsAreNotBadRecords) {
  BadRecordCount bad;
  EXPECT_EQ(field(kRsvp, "rsvp_id"), std::nullopt);
  EXPECT_EQ(field(kRsvp, "venue.address_1"), std::nullopt);
  EXPECT_EQ(field(kRsvp, "group.group_topics.2"), std::nullopt);
  EXPECT_EQ(field(kRsvp, "group.group_topics.99999999999999999999999"), std::nullopt);
  EXPECT_EQ(field(kRsvp, "nothing.below"), std::nullopt);  // null stands for a missing object
  EXPECT_EQ(getString(kRsvp, "venue.address_1"), std::nullopt);
  EXPECT_EQ(getInt64(kRsvp, "rsvp_id"), std::nullopt);
  EXPECT_EQ(getDouble(kRsvp, "venue.alt"), std::nullopt);
  EXPECT_EQ(getBool(kRsvp, "member.active"), std::nullopt);
  EXPECT_EQ(bad.count(), 0);
  EXPECT_EQ(bad.totalDelta(), 0);
}

TEST(JsonHasTest, IsTrueForPresentValuesIncludingNull) {
  EXPECT_TRUE(has(kRsvp, "venue"));
  EXPECT_TRUE(has(kRsvp, "group.group_topics.1.urlkey"));
  EXPECT_TRUE(has(kRsvp, "nothing"));
  EXPECT_FALSE(has(kRsvp, "rsvp_id"));
  EXPECT_FALSE(has(R"({"group":{}})", "venue"));
}

TEST(JsonGetStringTest, UnescapesEverythingJsonAllows) {
  EXPECT_THAT(getString(kRsvp, "venue.venue_name"),
              Optional(std::string("Couchbase San Francisco")));
  EXPECT_THAT(getString(kRsvp, "member.photo"),
              Optional(std::string("http://photos3.meetupstatic.com/x.jpeg")));
  EXPECT_THAT(getString(R"({"s":"caf\u00e9"})", "s"), Optional(std::string("caf\xc3\xa9")));
  EXPECT_THAT(getString(R"({"s":"\ud83d\ude00!"})", "s"),
              Optional(std::string("\xf0\x9f\x98\x80!")));
  EXPECT_THAT(getString(R"({"s":"a\"b\\c\nd\te\u0041"})", "s"),
              Optional(std::string("a\"b\\c\nd\teA")));
  EXPECT_THAT(getString(R"({"s":""})", "s"), Optional(std::string("")));
}

TEST(JsonGetStringTest, PassesRawUtf8Through) {
  EXPECT_THAT(getString("{\"city\":\"Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac\"}", "city"),
              Optional(std::string("Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac")));
}

// getStringView answers exactly what getString does, as a view held by the Record.
TEST(JsonGetStringViewTest, UnescapesLikeGetString) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::string(kRsvp), "venue.venue_name"},
      {std::string(kRsvp), "member.photo"},                       // \/ escapes
      {std::string(kRsvp), "group.group_topics.1.topic_name"},    // through an array
      {R"({"s":"caf\u00e9"})", "s"},                              // \u escape
      {R"({"s":"\ud83d\ude00!"})", "s"},                          // surrogate pair
      {R"({"s":"a\"b\\c\nd\te\u0041"})", "s"},                    // every short escape
      {"{\"city\":\"Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac\"}", "city"},  // raw UTF-8
      {R"({"s":""})", "s"},
      {R"({"s":"with\u0000nul"})", "s"},                          // an escaped NUL stays in
  };
  for (const auto& [line, path] : cases) {
    SCOPED_TRACE(line + " / " + path);
    auto record = Record::parse(line);
    ASSERT_TRUE(record);
    auto view = record->getStringView(path);
    ASSERT_TRUE(view);
    EXPECT_EQ(std::optional<std::string>(std::string(*view)), getString(line, path));
  }
  auto record = Record::parse(R"({"s":"with\u0000nul"})");
  EXPECT_EQ(record->getStringView("s")->size(), 8u);
  EXPECT_EQ(*record->getStringView("s"), std::string_view("with\0nul", 8));
  EXPECT_EQ(*Record::parse(R"({"s":"\u00e9"})")->getStringView("s"), "\xc3\xa9");
}

TEST(JsonGetStringViewTest, AbsentAndNullAreNoValueAndNotCounted) {
  BadRecordCount bad;
  auto record = Record::parse(kRsvp);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->getStringView("venue.address_1"), std::nullopt);
  EXPECT_EQ(record->getStringView("group.group_topics.7.topic_name"), std::nullopt);
  EXPECT_EQ(record->getStringView("nothing"), std::nullopt);
  EXPECT_EQ(record->getStringView("nothing.below"), std::nullopt);
  EXPECT_EQ(bad.count(), 0);
}

TEST(JsonGetStringViewTest, WrongTypesCountOnceOrThrowUnderFail) {
  BadRecordCount bad;
  auto record = Record::parse(kRsvp);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->getStringView("venue.lat"), std::nullopt);  // number
  EXPECT_EQ(record->getStringView("venue"), std::nullopt);      // object
  EXPECT_EQ(record->getStringView("flag"), std::nullopt);       // boolean
  EXPECT_EQ(record->getStringView("group.group_topics"), std::nullopt);  // array
  EXPECT_EQ(record->getStringView("venue.venue_name.x"), std::nullopt);  // through a string
  EXPECT_EQ(bad.count(), 1);
  EXPECT_EQ(bad.totalDelta(), 1);

  auto failing = Record::parse(kRsvp, OnBadRecord::kFail);
  ASSERT_TRUE(failing);
  try {
    failing->getStringView("venue.lat");
    ADD_FAILURE() << "kFail did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("venue.lat is a number, not a string"));
  }
  EXPECT_THROW(failing->getStringView("group.group_topics.urlkey"), Error);
  EXPECT_EQ(failing->getStringView("venue.address_1"), std::nullopt);  // absent is still fine
  EXPECT_EQ(bad.count(), 1);
  EXPECT_THROW(record->getStringView(""), Error);  // a bad path is a bug, whatever the policy
}

TEST(JsonGetStringViewTest, ViewsStayValidWhileTheRecordLivesAndMoves) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) {
    lines.push_back(R"({"id":)" + std::to_string(i) + R"(,"name":"n\u00e9)" + std::to_string(i) +
                    "\"}");
  }
  std::vector<Record> records;
  std::vector<std::string_view> views;
  for (const auto& line : lines) {
    auto record = Record::parse(line);
    ASSERT_TRUE(record);
    views.push_back(*record->getStringView("name"));
    records.push_back(std::move(*record));  // moved, and more live Records than the pool keeps
    EXPECT_THAT(getString(kRsvp, "group.group_city"), Optional(std::string("San Francisco")));
  }
  records.reserve(100);  // the vector moves every Record again
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(views[i], "n\xc3\xa9" + std::to_string(i));
    EXPECT_EQ(records[i].getStringView("name"), views[i]);
  }
}

TEST(JsonGetInt64Test, ReadsIntegersInRange) {
  EXPECT_THAT(getInt64(kRsvp, "venue.venue_id"), Optional(21741962));
  EXPECT_THAT(getInt64(kRsvp, "guests"), Optional(0));
  EXPECT_THAT(getInt64(R"({"n":-9223372036854775808})", "n"),
              Optional(std::numeric_limits<std::int64_t>::min()));
  EXPECT_THAT(getInt64(R"({"n":9223372036854775807})", "n"),
              Optional(std::numeric_limits<std::int64_t>::max()));
}

TEST(JsonGetDoubleTest, ReadsAnyNumber) {
  EXPECT_THAT(getDouble(kRsvp, "venue.lat"), Optional(37.790005));
  EXPECT_THAT(getDouble(kRsvp, "venue.lon"), Optional(-122.397354));
  EXPECT_THAT(getDouble(kRsvp, "venue.venue_id"), Optional(21741962.0));
  EXPECT_THAT(getDouble(R"({"n":1e3})", "n"), Optional(1000.0));
}

TEST(JsonGetBoolTest, ReadsBooleans) {
  EXPECT_THAT(getBool(kRsvp, "flag"), Optional(true));
  EXPECT_THAT(getBool(kRsvp, "off"), Optional(false));
}

TEST(JsonTypedTest, NullIsNoValueAndNotCounted) {
  BadRecordCount bad;
  EXPECT_EQ(getString(kRsvp, "nothing"), std::nullopt);
  EXPECT_EQ(getInt64(kRsvp, "nothing"), std::nullopt);
  EXPECT_EQ(getDouble(kRsvp, "nothing"), std::nullopt);
  EXPECT_EQ(getBool(kRsvp, "nothing"), std::nullopt);
  EXPECT_EQ(bad.count(), 0);
}

// Each row: a call that meets a wrong type, and the message it must give under kFail.
struct WrongTypeCase {
  const char* name;
  std::function<void(OnBadRecord)> call;
  const char* message;
};

TEST(JsonTypedTest, WrongTypesAreBadRecordsNamingThePath) {
  const std::vector<WrongTypeCase> cases = {
      {"string of a number", [](OnBadRecord p) { getString(kRsvp, "venue.lat", p); },
       "venue.lat is a number, not a string"},
      {"string of an object", [](OnBadRecord p) { getString(kRsvp, "venue", p); },
       "venue is an object, not a string"},
      {"int of a string", [](OnBadRecord p) { getInt64(kRsvp, "event.event_id", p); },
       "event.event_id is a string, not an integer"},
      {"int of a double", [](OnBadRecord p) { getInt64(kRsvp, "venue.lat", p); },
       "venue.lat is a floating-point number, not an integer"},
      {"int of 1.0", [](OnBadRecord p) { getInt64(R"({"n":1.0})", "n", p); },
       "n is a floating-point number, not an integer"},
      {"int beyond int64", [](OnBadRecord p) { getInt64(R"({"n":18446744073709551615})", "n", p); },
       "n is an integer beyond the int64 range"},
      {"double of a bool", [](OnBadRecord p) { getDouble(kRsvp, "flag", p); },
       "flag is a boolean, not a number"},
      {"bool of a number", [](OnBadRecord p) { getBool(kRsvp, "guests", p); },
       "guests is a number, not a boolean"},
      {"bool of a string", [](OnBadRecord p) { getBool(R"({"b":"true"})", "b", p); },
       "b is a string, not a boolean"},
      {"path through a string", [](OnBadRecord p) { field(kRsvp, "venue.venue_name.x", p); },
       "venue.venue_name is a string, not an object"},
      {"name on an array", [](OnBadRecord p) { field(kRsvp, "group.group_topics.urlkey", p); },
       "group.group_topics is an array, not an object (\"urlkey\" is not an index)"},
      {"has through a number", [](OnBadRecord p) { has(kRsvp, "guests.x", p); },
       "guests is a number, not an object"},
      {"path on an array line", [](OnBadRecord p) { field("[1,2]", "venue", p); },
       "the line is an array, not an object"},
      {"path on a number line", [](OnBadRecord p) { field("200", "venue", p); },
       "the line is a number, not an object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    {
      BadRecordCount bad;
      c.call(OnBadRecord::kSkip);
      EXPECT_EQ(bad.count(), 1);
      EXPECT_EQ(bad.totalDelta(), 1);
    }
    BadRecordCount bad;
    try {
      c.call(OnBadRecord::kFail);
      ADD_FAILURE() << "kFail did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_THAT(e.what(), HasSubstr(c.message));
    }
    EXPECT_EQ(bad.count(), 0) << "kFail throws instead of counting";
  }
}

// Each row: a line that is not one complete, valid JSON document, and why.
struct MalformedCase {
  const char* name;
  std::string line;
  const char* reason;
};

std::vector<MalformedCase> malformedCases() {
  return {
      {"HTTP header", "HTTP/1.1 200 OK", "not one complete JSON document"},
      {"empty line", "", "empty line"},
      {"blank line", "   \t", "empty line"},
      {"only CR", "\r", "empty line"},
      {"truncated after the field asked for", R"({"venue":{"venue_name":"x"},"rsvp_id":)",
       "not one complete JSON document"},
      {"truncated inside a string", R"({"venue":{"venue_name":"x)", "bad string"},
      {"trailing garbage", R"({"venue":{"venue_name":"x"}}x)", "not one complete JSON document"},
      {"two documents", R"({"venue":1} {"venue":2})", "not one complete JSON document"},
      {"missing comma", R"({"venue":{} "a":1})", "not one complete JSON document"},
      {"trailing comma", R"({"venue":{},})", "not one complete JSON document"},
      {"missing value", R"({"venue":{},"a":})", "not one complete JSON document"},
      {"invalid UTF-8", "{\"venue\":{},\"a\":\"\xff\"}", "invalid UTF-8"},
      {"bad escape", R"({"venue":{},"a":"\x"})", "bad string"},
      {"control character", "{\"venue\":{},\"a\":\"\x01\"}", "bad string"},
      {"bad literal", R"({"venue":{},"a":tru})", "bad literal"},
      {"integer beyond 64 bits", R"({"venue":{},"a":123456789012345678901234567890})",
       "bad number"},
      {"nested too deeply",
       R"({"venue":{},"a":)" + std::string(2000, '[') + std::string(2000, ']') + "}",
       "nested too deeply"},
  };
}

TEST(JsonMalformedTest, EveryCallCountsOneBadRecordAndReturnsNothing) {
  for (const auto& c : malformedCases()) {
    SCOPED_TRACE(c.name);
    BadRecordCount bad;
    EXPECT_EQ(field(c.line, "venue"), std::nullopt);
    EXPECT_FALSE(has(c.line, "venue"));
    EXPECT_EQ(getString(c.line, "venue.venue_name"), std::nullopt);
    EXPECT_EQ(getInt64(c.line, "a"), std::nullopt);
    EXPECT_EQ(getDouble(c.line, "a"), std::nullopt);
    EXPECT_EQ(getBool(c.line, "a"), std::nullopt);
    EXPECT_FALSE(Record::parse(c.line));
    EXPECT_EQ(bad.count(), 7);
    EXPECT_EQ(bad.totalDelta(), 7);
  }
}

TEST(JsonMalformedTest, FailPolicyThrowsNamingTheProblemAndTheLine) {
  for (const auto& c : malformedCases()) {
    SCOPED_TRACE(c.name);
    BadRecordCount bad;
    try {
      field(c.line, "venue", OnBadRecord::kFail);
      ADD_FAILURE() << "kFail did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_THAT(e.what(), HasSubstr("malformed line"));
      EXPECT_THAT(e.what(), HasSubstr(c.reason));
      std::string start = c.line.substr(0, 10);
      if (!start.empty() && start.back() == '\r') start.pop_back();
      EXPECT_THAT(e.what(), HasSubstr(start));
    }
    EXPECT_THROW(Record::parse(c.line, OnBadRecord::kFail), Error);
    EXPECT_EQ(bad.count(), 0);
  }
}

TEST(JsonMalformedTest, LongLinesAreShortenedInMessages) {
  std::string line = R"({"venue":")" + std::string(1000, 'v');  // unterminated
  try {
    field(line, "venue", OnBadRecord::kFail);
    ADD_FAILURE() << "kFail did not throw";
  } catch (const Error& e) {
    EXPECT_LT(std::string_view(e.what()).size(), 300u);
    EXPECT_THAT(e.what(), HasSubstr("..."));
  }
}

// Found by fuzz/json_fuzzer.cc: an empty line parsed first on a thread wrote simdjson's
// padding through the new parser's null buffer (a crash in release builds).
TEST(JsonMalformedTest, EmptyLineAsTheThreadsFirstParseIsMalformed) {
  std::int64_t before = totalBadRecords();
  bool found = true;
  std::thread([&found] { found = has("", "venue"); }).join();
  EXPECT_FALSE(found);
  EXPECT_EQ(totalBadRecords(), before + 1);
  std::thread([] { EXPECT_THROW(Record::parse("\r", OnBadRecord::kFail), Error); }).join();
}

TEST(JsonLineTest, TrailingCarriageReturnIsIgnored) {
  BadRecordCount bad;
  std::string line = std::string(kRsvp) + "\r";
  EXPECT_THAT(getString(line, "venue.venue_name"),
              Optional(std::string("Couchbase San Francisco")));
  EXPECT_THAT(field(R"({"a":1})"
                    "\r",
                    "a"),
              Optional(std::string_view("1")));
  auto record = Record::parse(line);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->line(), kRsvp);
  EXPECT_EQ(bad.count(), 0);
}

TEST(JsonPathTest, EmptySegmentsThrowWhateverThePolicyAndTheLine) {
  for (std::string_view path : {"", ".", "venue.", ".venue", "venue..venue_name"}) {
    SCOPED_TRACE(path);
    EXPECT_THROW(field(kRsvp, path), Error);
    EXPECT_THROW(getString("HTTP/1.1 200 OK", path), Error);
    auto record = Record::parse(kRsvp);
    EXPECT_THROW(record->has(path), Error);
  }
  try {
    field(kRsvp, "venue..venue_name");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("\"venue..venue_name\" has an empty segment"));
  }
}

// Lookups check the path as they walk it; one that stops early (absent, null, wrong type)
// must still find the empty segment beyond, and throw rather than answer or count.
TEST(JsonPathTest, EmptySegmentsBeyondWhereTheWalkStopsStillThrow) {
  auto record = Record::parse(kRsvp);
  ASSERT_TRUE(record);
  BadRecordCount bad;
  for (std::string_view path :
       {"rsvp_id..x", "nothing..x", "group.group_topics.9..x", "guests.x..y", "venue..lat"}) {
    SCOPED_TRACE(path);
    EXPECT_THROW(record->has(path), Error);
    EXPECT_THROW(record->getStringView(path), Error);
    EXPECT_THROW(record->getInt64(path), Error);
    EXPECT_THROW(record->field(path), Error);
  }
  EXPECT_EQ(bad.count(), 0);
  EXPECT_THAT(record->getStringView("venue.venue_name"),
              Optional(std::string_view("Couchbase San Francisco")));
}

TEST(JsonRecordTest, PullsSeveralFieldsFromOneParse) {
  auto record = Record::parse(kRsvp);
  ASSERT_TRUE(record);
  EXPECT_THAT(record->getString("venue.venue_name"),
              Optional(std::string("Couchbase San Francisco")));
  EXPECT_THAT(record->getString("group.group_city"), Optional(std::string("San Francisco")));
  EXPECT_THAT(record->getDouble("venue.lat"), Optional(37.790005));
  EXPECT_THAT(record->getInt64("member.member_id"), Optional(8301128));
  EXPECT_THAT(record->getBool("flag"), Optional(true));
  EXPECT_TRUE(record->has("nothing"));
  auto venue = record->field("venue");
  ASSERT_TRUE(venue);
  EXPECT_TRUE(pointsInto(*venue, kRsvp));
  EXPECT_TRUE(pointsInto(record->line(), kRsvp));
}

TEST(JsonRecordTest, CountsARecordOnceHoweverManyWrongTypesItHas) {
  BadRecordCount bad;
  auto record = Record::parse(kRsvp);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->getString("venue.lat"), std::nullopt);
  EXPECT_EQ(record->getBool("guests"), std::nullopt);
  EXPECT_EQ(record->field("venue.venue_name.x"), std::nullopt);
  EXPECT_EQ(bad.count(), 1);
  // The good fields are still there.
  EXPECT_THAT(record->getString("venue.venue_name"),
              Optional(std::string("Couchbase San Francisco")));
}

TEST(JsonRecordTest, FailPolicyIsChosenAtParse) {
  auto record = Record::parse(kRsvp, OnBadRecord::kFail);
  ASSERT_TRUE(record);
  EXPECT_THROW(record->getString("venue.lat"), Error);
  EXPECT_THROW(record->getInt64("venue.lat"), Error);             // throws each time, not once
  EXPECT_EQ(record->getString("venue.address_1"), std::nullopt);  // absent is still fine
}

TEST(JsonRecordTest, StaysValidWhileTheThreadParsesOtherLines) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i)
    lines.push_back(R"({"id":)" + std::to_string(i) + R"(,"name":"n)" + std::to_string(i) + "\"}");
  std::vector<Record> records;
  for (const auto& line : lines) {
    auto record = Record::parse(line);
    ASSERT_TRUE(record);
    records.push_back(std::move(*record));                // more live Records than the pool keeps
    EXPECT_THAT(getInt64(kRsvp, "guests"), Optional(0));  // free functions in between
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(records[i].getInt64("id"), Optional(i));
    EXPECT_THAT(records[i].getString("name"), Optional("n" + std::to_string(i)));
    EXPECT_THAT(records[i].field("name"), Optional("\"n" + std::to_string(i) + "\""));
  }
  records.clear();  // parsers go back to the pool (at most a few are kept)
  EXPECT_THAT(getInt64(lines[3], "id"), Optional(3));
}

TEST(JsonRecordTest, HandlesAHugeLineThenSmallOnes) {
  std::string big =
      R"({"pad":")" + std::string(3 << 20, 'x') + R"(","venue":{"venue_name":"end"}})";
  EXPECT_THAT(getString(big, "venue.venue_name"), Optional(std::string("end")));
  EXPECT_THAT(field(big, "venue"), Optional(std::string_view(R"({"venue_name":"end"})")));
  EXPECT_THAT(getString(kRsvp, "group.group_city"), Optional(std::string("San Francisco")));
}

TEST(JsonScaleTest, ParsesOneHundredThousandGeneratedLines) {
  constexpr int kLines = 100'000;
  std::vector<std::string> lines;
  lines.reserve(kLines);
  for (int i = 0; i < kLines; ++i) {
    lines.push_back(R"({"venue":{"venue_name":"v)" + std::to_string(i % 97) + R"(","venue_id":)" +
                    std::to_string(i) + R"(},"rsvp_id":)" + std::to_string(-i) + "}");
  }
  BadRecordCount bad;
  std::int64_t idSum = 0, rsvpSum = 0;
  std::size_t venueBytes = 0;
  for (const auto& line : lines) {
    auto record = Record::parse(line);
    ASSERT_TRUE(record);
    idSum += record->getInt64("venue.venue_id").value_or(0);
    rsvpSum += record->getInt64("rsvp_id").value_or(0);
    venueBytes += field(line, "venue")->size();
  }
  std::int64_t expected = std::int64_t{kLines} * (kLines - 1) / 2;
  EXPECT_EQ(idSum, expected);
  EXPECT_EQ(rsvpSum, -expected);
  EXPECT_GT(venueBytes, 0u);
  EXPECT_EQ(bad.count(), 0);
}

}  // namespace
}  // namespace dstream::json
