// Yahoo streaming benchmark events, shaped like the original generator's
// (yahoo/streaming-benchmarks, core.clj): 100 campaigns of 10 ads, 100 users, 100 pages.
#include <array>
#include <string_view>

#include "datagen/datagen.h"
#include "datagen/gen_util.h"
#include "dstream/error.h"

namespace dstream::datagen {
namespace {

using internal::Rng;

constexpr std::array<std::string_view, 5> kAdTypes{"banner", "modal", "sponsored-search", "mail",
                                                   "mobile"};
constexpr std::array<std::string_view, 3> kEventTypes{"view", "click", "purchase"};
constexpr uint64_t kUsers = 100;
constexpr uint64_t kPages = 100;
constexpr uint64_t kAds = kYsbCampaigns * kYsbAdsPerCampaign;

enum Kind : uint64_t { kCampaignKind = 1, kAdKind, kUserKind, kPageKind, kEventStream };

void appendUuid(std::string& out, uint64_t seed, uint64_t kind, uint64_t index) {
  char buf[36];
  deterministicUuid(seed, kind, index, buf);
  out += '"';
  out.append(buf, sizeof buf);
  out += '"';
}

}  // namespace

void deterministicUuid(uint64_t seed, uint64_t kind, uint64_t index, char* out) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t base = splitmix64(splitmix64(seed) ^ (kind << 48)) + index;
  uint64_t hi = splitmix64(base * 2), lo = splitmix64(base * 2 + 1);
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(3ull << 62)) | (2ull << 62);            // RFC 4122 variant
  int pos = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) out[pos++] = '-';
    uint64_t word = nibble < 16 ? hi : lo;
    out[pos++] = kHex[(word >> (60 - 4 * (nibble % 16))) & 15];
  }
}

std::vector<YsbAd> ysbAds(uint64_t seed) {
  std::vector<YsbAd> ads(kAds);
  for (uint64_t k = 0; k < kAds; ++k) {
    ads[k].adId.resize(36);
    ads[k].campaignId.resize(36);
    deterministicUuid(seed, kAdKind, k, ads[k].adId.data());
    deterministicUuid(seed, kCampaignKind, k / kYsbAdsPerCampaign, ads[k].campaignId.data());
  }
  return ads;
}

void appendYsbEvents(std::string& out, uint64_t seed, uint64_t first, uint64_t n,
                     int64_t startTimeMs, uint64_t eventsPerSecond) {
  if (eventsPerSecond == 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "YSB events per second is 0; use a positive rate such as 10000");
  }
  for (uint64_t i = first; i < first + n; ++i) {
    Rng r(seed, kEventStream, i);
    out += "{\"user_id\":";
    appendUuid(out, seed, kUserKind, r.below(kUsers));
    out += ",\"page_id\":";
    appendUuid(out, seed, kPageKind, r.below(kPages));
    out += ",\"ad_id\":";
    appendUuid(out, seed, kAdKind, r.below(kAds));
    out += ",\"ad_type\":\"";
    out += kAdTypes[r.below(kAdTypes.size())];
    out += "\",\"event_type\":\"";
    out += kEventTypes[r.below(kEventTypes.size())];
    out += "\",\"event_time\":\"";
    auto offset = static_cast<int64_t>((static_cast<unsigned __int128>(i) * 1000) / eventsPerSecond);
    out += std::to_string(startTimeMs + offset);
    uint64_t ip = r.next();
    out += "\",\"ip_address\":\"";
    const uint64_t octets[4] = {1 + (ip & 0x7F), (ip >> 8) & 0xFF, (ip >> 16) & 0xFF,
                                1 + ((ip >> 24) & 0xFD)};
    for (int k = 0; k < 4; ++k) {
      if (k > 0) out += '.';
      out += std::to_string(octets[k]);
    }
    out += "\"}\n";
  }
}

}  // namespace dstream::datagen
