#include "datagen/datagen.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dstream/error.h"

namespace dstream::datagen {
namespace {

std::vector<std::string_view> splitLines(std::string_view s) {
  std::vector<std::string_view> lines;
  while (!s.empty()) {
    std::size_t nl = s.find('\n');
    lines.push_back(s.substr(0, nl));
    s.remove_prefix(nl + 1);
  }
  return lines;
}

TEST(WRecordsTest, RecordZeroMatchesTheCheckValue) {
  std::string out;
  appendWRecords(out, 0, 1, 10000);
  EXPECT_EQ(out,
            "rugjmmrdg firdhphqg zchfcbuap lbyecrfak yorywhaxv foeicwgxf hnqxpmnfd faxrhtrxo "
            "swzyhgloh ciiqubtfx\n");
  char buf[kWRecordBytes];
  writeWRecord(0, 10000, buf);
  EXPECT_EQ(std::string(buf, sizeof buf), out);
}

TEST(WRecordsTest, EveryRecordIsTenNineLetterWordsInExactlyOneHundredBytes) {
  WRecords records(10000);
  std::string out;
  records.append(out, 12345, 1000);
  ASSERT_EQ(out.size(), 1000 * kWRecordBytes);
  for (std::size_t r = 0; r < 1000; ++r) {
    std::string_view rec(out.data() + r * kWRecordBytes, kWRecordBytes);
    for (std::size_t i = 0; i < kWRecordBytes - 1; ++i) {
      if (i % 10 == 9) {
        ASSERT_EQ(rec[i], ' ') << "record " << r;
      } else {
        ASSERT_TRUE(rec[i] >= 'a' && rec[i] <= 'z') << "record " << r;
      }
    }
    ASSERT_EQ(rec.back(), '\n');
  }
}

TEST(WRecordsTest, PiecesConcatenateToTheWhole) {
  WRecords records(777);
  std::string whole, pieces;
  records.append(whole, 5, 300);
  records.append(pieces, 5, 100);
  records.append(pieces, 105, 200);
  EXPECT_EQ(whole, pieces);
  std::string viaFree;
  appendWRecords(viaFree, 5, 300, 777);
  EXPECT_EQ(whole, viaFree);
}

TEST(WRecordsTest, WordsComeFromTheFirstVWordsOfTheVocabulary) {
  constexpr uint64_t kVocab = 7;
  std::set<std::string> allowed;
  for (uint64_t i = 0; i < kVocab; ++i) allowed.insert(vocabWord(i));
  ASSERT_EQ(allowed.size(), kVocab);
  std::string out;
  appendWRecords(out, 0, 500, kVocab);
  std::set<std::string> seen;
  for (std::size_t at = 0; at < out.size(); at += 10) seen.insert(out.substr(at, 9));
  EXPECT_EQ(seen, allowed);  // all 7 words appear in 5000 draws, and nothing else
}

TEST(WRecordsTest, VocabularyWordsAreNineLowercaseLettersAtTheBounds) {
  for (uint64_t idx : {uint64_t{0}, uint64_t{1}, uint64_t{9999}, kWMaxVocab - 1, ~uint64_t{0}}) {
    std::string w = vocabWord(idx);
    ASSERT_EQ(w.size(), kWWordLetters);
    for (char c : w) EXPECT_TRUE(c >= 'a' && c <= 'z') << idx;
  }
  EXPECT_EQ(vocabWord(0), vocabWord(0));
  WRecords huge(kWMaxVocab);  // not tabulated: computed per word
  char buf[kWRecordBytes];
  huge.write(3, buf);
  EXPECT_EQ(buf[kWRecordBytes - 1], '\n');
}

TEST(WRecordsTest, VocabularyOutOfRangeIsInvalidArgument) {
  for (uint64_t v : {uint64_t{0}, kWMaxVocab + 1}) {
    try {
      WRecords records(v);
      FAIL() << "no error for vocab " << v;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(std::to_string(v)), std::string::npos);
    }
  }
  char buf[kWRecordBytes];
  EXPECT_THROW(writeWRecord(0, 0, buf), Error);
}

TEST(MeetupTest, TenThousandRecordsAreValidJsonWithAboutEightyPercentVenues) {
  std::string out;
  appendMeetupRecords(out, 42, 0, 10000);
  std::vector<std::string_view> lines = splitLines(out);
  ASSERT_EQ(lines.size(), 10000u);
  simdjson::dom::parser parser;
  int venues = 0;
  int64_t lastMtime = 0;
  for (std::string_view line : lines) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line.data(), line.size()).get(doc), simdjson::SUCCESS) << line;
    simdjson::dom::object obj = doc.get_object();
    if (obj["venue"].error() == simdjson::SUCCESS) {
      ++venues;
      EXPECT_EQ(obj.begin().key(), "venue");  // venue, when present, comes first
      EXPECT_TRUE(obj["venue"]["venue_name"].is_string());
      EXPECT_TRUE(obj["venue"]["lat"].is_number());
    }
    int64_t mtime = obj["mtime"].get_int64();
    EXPECT_GE(mtime, lastMtime);
    lastMtime = mtime;
    EXPECT_TRUE(obj["event"]["event_id"].is_string());
    EXPECT_TRUE(obj["member"]["member_name"].is_string());
    EXPECT_TRUE(obj["group"]["group_topics"].is_array());
    EXPECT_TRUE(obj["group"]["group_city"].is_string());
  }
  EXPECT_GE(venues, 7800);
  EXPECT_LE(venues, 8200);
}

TEST(MeetupTest, HasTheRealStreamsQuirks) {
  std::string out;
  appendMeetupRecords(out, 1, 0, 500, 1446516360000);
  EXPECT_NE(out.find("\"http:\\/\\/www.meetup.com\\/"), std::string::npos);
  EXPECT_EQ(out.find("http://"), std::string::npos);  // every slash is escaped
  bool rawUtf8 = false;
  for (char c : out) rawUtf8 |= static_cast<unsigned char>(c) >= 0x80;
  EXPECT_TRUE(rawUtf8);
  EXPECT_EQ(out.find("\\u"), std::string::npos);  // UTF-8 is raw, not \u-escaped
  EXPECT_TRUE(simdjson::validate_utf8(out.data(), out.size()));
  EXPECT_EQ(out.rfind("{\"", 0), 0u);
  EXPECT_NE(out.find("\"mtime\":144651636"), std::string::npos);  // 64-bit ms from the start
  EXPECT_NE(out.find("\"other_services\":{\"facebook\""), std::string::npos);
}

TEST(MeetupTest, IsDeterministicAndRandomlyAccessible) {
  std::string a, b, pieces, otherSeed;
  appendMeetupRecords(a, 7, 100, 300);
  appendMeetupRecords(b, 7, 100, 300);
  appendMeetupRecords(pieces, 7, 100, 120);
  appendMeetupRecords(pieces, 7, 220, 180);
  appendMeetupRecords(otherSeed, 8, 100, 300);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, pieces);
  EXPECT_NE(a, otherSeed);
}

TEST(YsbTest, EventsAreValidJsonJoiningTheAdTable) {
  std::vector<YsbAd> ads = ysbAds(3);
  ASSERT_EQ(ads.size(), static_cast<std::size_t>(kYsbCampaigns * kYsbAdsPerCampaign));
  std::set<std::string> adIds, campaigns;
  for (const YsbAd& ad : ads) {
    adIds.insert(ad.adId);
    campaigns.insert(ad.campaignId);
  }
  EXPECT_EQ(adIds.size(), ads.size());
  EXPECT_EQ(campaigns.size(), static_cast<std::size_t>(kYsbCampaigns));

  std::string out;
  appendYsbEvents(out, 3, 0, 2000, 1000000, 1000);
  std::vector<std::string_view> lines = splitLines(out);
  ASSERT_EQ(lines.size(), 2000u);
  const std::set<std::string_view> adTypes{"banner", "modal", "sponsored-search", "mail", "mobile"};
  const std::set<std::string_view> eventTypes{"view", "click", "purchase"};
  simdjson::dom::parser parser;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(lines[i].data(), lines[i].size()).get(doc), simdjson::SUCCESS);
    for (const char* key : {"user_id", "page_id", "ad_id"}) {
      std::string_view uuid = doc[key].get_string();
      ASSERT_EQ(uuid.size(), 36u);
      EXPECT_EQ(uuid[8], '-');
      EXPECT_EQ(uuid[23], '-');
    }
    EXPECT_TRUE(adIds.count(std::string(doc["ad_id"].get_string().value())));
    EXPECT_TRUE(adTypes.count(doc["ad_type"].get_string().value()));
    EXPECT_TRUE(eventTypes.count(doc["event_type"].get_string().value()));
    EXPECT_EQ(doc["event_time"].get_string().value(), std::to_string(1000000 + i));
    EXPECT_TRUE(doc["ip_address"].is_string());
  }
}

TEST(YsbTest, IsDeterministicAndRejectsAZeroRate) {
  std::string a, b;
  appendYsbEvents(a, 5, 10, 100);
  appendYsbEvents(b, 5, 10, 100);
  EXPECT_EQ(a, b);
  EXPECT_EQ(ysbAds(5)[17].adId, ysbAds(5)[17].adId);
  EXPECT_NE(ysbAds(5)[17].adId, ysbAds(6)[17].adId);
  try {
    appendYsbEvents(a, 5, 0, 1, 0, 0);
    FAIL() << "no error for 0 events per second";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace dstream::datagen
