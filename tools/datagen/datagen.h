// dstream::datagen generates deterministic test and benchmark input: the same arguments give
// the same bytes on every machine and run. Three generators:
//   W-records  fixed-size text records of 10 nine-letter words (benchmarks: word count, grep);
//   Meetup     RSVP JSON lines shaped like the lab's meetup.data.* files (the lab examples);
//   YSB        Yahoo streaming benchmark ad events, with the ad -> campaign table to join on.
// Every record is a pure function of (seed, record index), so a range [first, first + n) can be
// generated in pieces, in any order, on any thread. All functions are thread-safe: they share
// only immutable tables. Errors are Error(kInvalidArgument) for out-of-range parameters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dstream::datagen {

// The splitmix64 finaliser (Steele et al.); the one hash behind every generator here.
constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  uint64_t z = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// ---- W-records -------------------------------------------------------------------------

inline constexpr std::size_t kWRecordBytes = 100;  // 10 words x 9 letters + 9 spaces + '\n'
inline constexpr std::size_t kWWordsPerRecord = 10;
inline constexpr std::size_t kWWordLetters = 9;
inline constexpr uint64_t kWMaxVocab = 5429503678976ull;  // 26^9 distinct nine-letter words
inline constexpr uint64_t kWDefaultVocab = 10000;

// Writes the nine letters of vocabulary entry `idx` to out[0..8]:
// (idx * 2654435761 + 12345) mod 26^9 in base 26, most significant digit first, 'a' = 0.
// REQUIRES: out has room for 9 chars. Never throws.
void vocabWord(uint64_t idx, char* out) noexcept;

// Returns vocabulary entry `idx` as a 9-letter string.
std::string vocabWord(uint64_t idx);

// Precomputes a vocabulary so that records can be written at memory speed (benchmarks
// generate hundreds of millions). Immutable after construction; share it freely.
class WRecords {
 public:
  // Throws Error(kInvalidArgument) unless 1 <= vocab <= kWMaxVocab. Vocabularies up to 2^24
  // words are tabulated (9 bytes each); larger ones are computed per word.
  explicit WRecords(uint64_t vocab = kWDefaultVocab);

  uint64_t vocab() const { return vocab_; }

  // Writes record r (exactly kWRecordBytes bytes, the last one '\n') to out.
  // Word j of record r is vocabWord(splitmix64(r * 10 + j) % vocab()).
  // REQUIRES: out has room for kWRecordBytes bytes. Never throws.
  void write(uint64_t r, char* out) const noexcept;

  // Appends records [first, first + n) to out (n * kWRecordBytes bytes).
  void append(std::string& out, uint64_t first, uint64_t n) const;

 private:
  uint64_t vocab_;
  std::vector<char> table_;  // vocab_ * 9 letters, empty if the vocabulary is too large
};

// Writes record r as WRecords(vocab).write does, computing each word without a table (cheap for
// one record; use a WRecords object in loops). appendWRecords builds a WRecords per call.
// Both throw Error(kInvalidArgument) unless 1 <= vocab <= kWMaxVocab.
void writeWRecord(uint64_t r, uint64_t vocab, char* out);
void appendWRecords(std::string& out, uint64_t first, uint64_t n, uint64_t vocab = kWDefaultVocab);

// ---- Meetup RSVPs ----------------------------------------------------------------------

// 2015-11-03 02:06:00 UTC, near the lab's recorded data.
inline constexpr int64_t kMeetupDefaultStartMtimeMs = 1446516360000;

// Appends Meetup RSVP records [first, first + n), one JSON object per line, to out. Records
// follow the real stream's schema and quirks: field order venue?, visibility, response, guests,
// member{member_id, other_services?, photo?, member_name}, rsvp_id, mtime, event{event_name,
// event_id (a string), time?, event_url}, group{group_topics[...], group_city, group_country,
// group_id, group_name, group_lon, group_urlname, group_state (US only), group_lat}; URLs with
// escaped slashes ("http:\/\/www.meetup.com\/..."); raw UTF-8 in some names and cities.
// About 80% of records have a venue, drawn with a skew so that some venues are "top venues".
// Record i has mtime in [startMtimeMs + 250 i, startMtimeMs + 250 (i + 1)): nondecreasing,
// about 4 RSVPs per second. rsvp_id is 1578630000 + i. Never throws except std::bad_alloc.
void appendMeetupRecords(std::string& out, uint64_t seed, uint64_t first, uint64_t n,
                         int64_t startMtimeMs = kMeetupDefaultStartMtimeMs);

// ---- Yahoo streaming benchmark (YSB) ---------------------------------------------------

inline constexpr int kYsbCampaigns = 100;
inline constexpr int kYsbAdsPerCampaign = 10;
inline constexpr int64_t kYsbDefaultStartTimeMs = 1446516360000;
inline constexpr uint64_t kYsbDefaultEventsPerSecond = 10000;

// One row of the join table.
struct YsbAd {
  std::string adId;        // 36-character UUID
  std::string campaignId;  // 36-character UUID
};

// Returns the kYsbCampaigns * kYsbAdsPerCampaign ads of `seed`, ad k belonging to campaign
// k / kYsbAdsPerCampaign. Never throws except std::bad_alloc.
std::vector<YsbAd> ysbAds(uint64_t seed);

// Appends YSB events [first, first + n), one JSON object per line:
// {"user_id":UUID,"page_id":UUID,"ad_id":UUID,"ad_type":"banner|modal|sponsored-search|mail|
// mobile","event_type":"view|click|purchase","event_time":"MS","ip_address":"A.B.C.D"}.
// ad_id is one of ysbAds(seed); event i has event_time startTimeMs + i * 1000 / eventsPerSecond.
// Throws Error(kInvalidArgument) if eventsPerSecond is 0.
void appendYsbEvents(std::string& out, uint64_t seed, uint64_t first, uint64_t n,
                     int64_t startTimeMs = kYsbDefaultStartTimeMs,
                     uint64_t eventsPerSecond = kYsbDefaultEventsPerSecond);

// Writes a version-4-shaped UUID derived from (seed, kind, index) to out[0..35].
// REQUIRES: out has room for 36 chars. Never throws.
void deterministicUuid(uint64_t seed, uint64_t kind, uint64_t index, char* out) noexcept;

}  // namespace dstream::datagen
