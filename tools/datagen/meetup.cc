// Meetup RSVP generator. Entities (groups, their venues and events, members) come from small
// fixed pools so that "top venues" and "top groups" are meaningful; group and venue choice is
// skewed (u^2) so that a few are popular, as in the real stream.
#include <array>
#include <string_view>

#include "datagen/datagen.h"
#include "datagen/gen_util.h"

namespace dstream::datagen {
namespace {

using internal::appendDecimal;
using internal::appendInt;
using internal::appendJsonString;
using internal::Rng;

struct City {
  std::string_view name, slug, country, state;  // state only for us and ca, as in the data
  double lat, lon;
};

constexpr std::array<City, 20> kCities{{
    {"San Francisco", "SF", "us", "CA", 37.77, -122.42},
    {"New York", "NYC", "us", "NY", 40.71, -74.01},
    {"Littleton", "Littleton", "us", "CO", 39.54, -104.92},
    {"Austin", "Austin", "us", "TX", 30.27, -97.74},
    {"Seattle", "Seattle", "us", "WA", 47.61, -122.33},
    {"Chicago", "Chicago", "us", "IL", 41.88, -87.63},
    {"Boston", "Boston", "us", "MA", 42.36, -71.06},
    {"San José", "San-Jose", "us", "CA", 37.34, -121.89},
    {"Montréal", "Montreal", "ca", "QC", 45.5, -73.57},
    {"Québec", "Quebec", "ca", "QC", 46.81, -71.21},
    {"Toronto", "Toronto", "ca", "ON", 43.65, -79.38},
    {"London", "London", "gb", "", 51.51, -0.13},
    {"München", "Munchen", "de", "", 48.14, 11.58},
    {"Zürich", "Zurich", "ch", "", 47.38, 8.54},
    {"São Paulo", "Sao-Paulo", "br", "", -23.55, -46.63},
    {"Singapore", "Singapore", "sg", "", 1.3, 103.85},
    {"Sydney", "Sydney", "au", "", -33.87, 151.21},
    {"Tokyo", "Tokyo", "jp", "", 35.68, 139.69},
    {"Kraków", "Krakow", "pl", "", 50.06, 19.94},
    {"Stockholm", "Stockholm", "se", "", 59.33, 18.07},
}};

struct Topic {
  std::string_view urlkey, name;
};

constexpr std::array<Topic, 41> kTopics{{
    {"java", "Java"}, {"php", "PHP"}, {"newtech", "New Technology"},
    {"nosql", "NoSQL"}, {"softwaredev", "Software Development"},
    {"web-development", "Web Development"}, {"big-data", "Big Data"},
    {"data-science", "Data Science"}, {"machine-learning", "Machine Learning"},
    {"hiking", "Hiking"}, {"running", "Running"}, {"camping", "Camping"},
    {"backpacking", "Backpacking"}, {"adventure", "Adventure"}, {"travel", "Travel"},
    {"photo", "Photography"}, {"art", "Art"}, {"painting", "Painting"},
    {"livemusic", "Live Music"}, {"diningout", "Dining Out"}, {"wine", "Wine"},
    {"singles", "Singles"}, {"social", "Social"}, {"nightlife", "Nightlife"},
    {"newintown", "New In Town"}, {"language", "Language & Culture"},
    {"french", "French Language"}, {"spanish", "Español"}, {"yoga", "Yoga"},
    {"meditation", "Meditation"}, {"fitness", "Fitness"}, {"boardgames", "Board Games"},
    {"book-club", "Book Club"}, {"entrepreneurship", "Entrepreneurship"},
    {"startup-businesses", "Startup Businesses"}, {"skeptics", "Skeptics"},
    {"atheists", "Atheist"}, {"volunteering", "Volunteering"},
    {"self-improvement", "Self-Improvement"}, {"parents", "Parents"},
    {"cafe-culture", "Café Culture"},
}};

constexpr std::array<std::string_view, 12> kInterests{
    "Tech", "Hiking", "Photography", "Board Games", "Data Science", "Singles",
    "Language Exchange", "Yoga", "Running", "Entrepreneurs", "Skeptics", "Foodies"};
constexpr std::array<std::string_view, 4> kGroupSuffixes{"Meetup", "Group", "Club", "Society"};
constexpr std::array<std::string_view, 12> kPlaces{
    "Café Central", "The Hub", "Public Library", "Starbucks", "WeWork", "Impact Hub",
    "Community Center", "Brauhaus Lemke", "Trailhead Parking Lot", "Food Republic",
    "Couchbase", "Crêperie Bretonne"};
constexpr std::array<std::string_view, 12> kEventNames{
    "Monthly Meetup", "Full Stack Development with NoSQL & Node.js", "Free Night at The Museums",
    "Brunch des Sceptiques", "Let's Do Twisted Portraits!", "Rancho Cañada del Oro Hike",
    "Café & Conversation", "Board Game Night", "Sunday Morning Run", "Intro to Spark Streaming",
    "Wine Tasting Évening", "Hack Night"};
constexpr std::array<std::string_view, 16> kFirstNames{
    "Che", "Judy", "Greg", "Karen", "José", "Zoë", "Søren", "François",
    "Łukasz", "Björn", "Renée", "Aiko", "Stef", "Cherie", "Mohammed", "Anna"};
constexpr std::array<std::string_view, 12> kLastNames{
    "Hsu", "Weller", "Gaston", "Müller", "García", "Nakatani", "O'Brien", "Lindqvist",
    "Nowak", "Smith", "Dubois", "Tanaka"};

constexpr uint64_t kGroups = 60;
constexpr uint64_t kVenuesPerGroup = 4;
constexpr uint64_t kEventsPerGroup = 6;
constexpr uint64_t kMembers = 20000;
constexpr int64_t kMtimeStepMs = 250;
constexpr int64_t kFirstRsvpId = 1578630000;

// Pool entities depend on the seed and their index only (stream ids keep them independent).
enum Stream : uint64_t { kRecord = 1, kGroup, kVenue, kEvent, kMember };

void appendVenue(std::string& out, uint64_t seed, uint64_t group, uint64_t venue, const City& c) {
  Rng r(seed, kVenue, group * kVenuesPerGroup + venue);
  std::string name(kPlaces[r.below(kPlaces.size())]);
  if (r.chance(0.5)) (name += ' ') += c.name;
  out += "{\"venue_name\":";
  appendJsonString(out, name);
  out += ",\"lon\":";
  appendDecimal(out, c.lon + (r.unit() - 0.5) * 0.2, 6);
  out += ",\"lat\":";
  appendDecimal(out, c.lat + (r.unit() - 0.5) * 0.2, 6);
  out += ",\"venue_id\":";
  appendInt(out, static_cast<int64_t>(1000000 + r.below(25000000)));
  out += '}';
}

void appendMember(std::string& out, uint64_t seed, uint64_t member) {
  Rng r(seed, kMember, member);
  out += "{\"member_id\":";
  appendInt(out, static_cast<int64_t>(1000 + r.below(250000000)));
  if (r.chance(0.13)) {
    out += ",\"other_services\":{\"facebook\":{\"identifier\":";
    appendJsonString(out, "http://www.facebook.com/" + std::to_string(r.below(2000000000)));
    out += "}}";
  }
  if (r.chance(0.96)) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string photo = "http://photos" + std::to_string(1 + r.below(4)) +
                        ".meetupstatic.com/photos/member";
    for (int i = 0; i < 4; ++i) (photo += '/') += kHex[r.below(16)];
    photo += "/thumb_" + std::to_string(r.below(250000000)) + ".jpeg";
    out += ",\"photo\":";
    appendJsonString(out, photo);
  }
  std::string name(kFirstNames[r.below(kFirstNames.size())]);
  if (r.chance(0.7)) (name += ' ') += kLastNames[r.below(kLastNames.size())];
  out += ",\"member_name\":";
  appendJsonString(out, name);
  out += '}';
}

void appendEvent(std::string& out, uint64_t seed, uint64_t group, uint64_t event,
                 std::string_view urlname, int64_t mtime) {
  Rng r(seed, kEvent, group * kEventsPerGroup + event);
  std::string id = std::to_string(225000000 + r.below(2000000));
  out += "{\"event_name\":";
  appendJsonString(out, kEventNames[r.below(kEventNames.size())]);
  out += ",\"event_id\":";
  appendJsonString(out, id);
  if (r.chance(0.995)) {
    // A future start time on a quarter hour, 1..30 days after the RSVP.
    constexpr int64_t kQuarterMs = 15 * 60 * 1000;
    int64_t when = mtime + static_cast<int64_t>(1 + r.below(30)) * 86400000;
    out += ",\"time\":";
    appendInt(out, when - when % kQuarterMs);
  }
  out += ",\"event_url\":";
  appendJsonString(out, "http://www.meetup.com/" + std::string(urlname) + "/events/" + id + "/");
  out += '}';
}

void appendGroup(std::string& out, uint64_t seed, uint64_t group, const City& c,
                 std::string_view name, std::string_view urlname) {
  Rng r(seed, kGroup, group);
  (void)r.next();  // the draws that chose the city and name (see appendMeetupRecords)
  (void)r.next();
  (void)r.next();
  out += "{\"group_topics\":[";
  // Distinct topics: a start and a stride modulo the prime table size.
  uint64_t count = 1 + r.below(18), start = r.below(kTopics.size());
  uint64_t stride = 1 + r.below(kTopics.size() - 1);
  for (uint64_t k = 0; k < count; ++k) {
    const Topic& t = kTopics[(start + k * stride) % kTopics.size()];
    if (k > 0) out += ',';
    out += "{\"urlkey\":";
    appendJsonString(out, t.urlkey);
    out += ",\"topic_name\":";
    appendJsonString(out, t.name);
    out += '}';
  }
  out += "],\"group_city\":";
  appendJsonString(out, c.name);
  out += ",\"group_country\":";
  appendJsonString(out, c.country);
  out += ",\"group_id\":";
  appendInt(out, static_cast<int64_t>(1000000 + r.below(20000000)));
  out += ",\"group_name\":";
  appendJsonString(out, name);
  out += ",\"group_lon\":";
  appendDecimal(out, c.lon, 2);
  out += ",\"group_urlname\":";
  appendJsonString(out, urlname);
  if (!c.state.empty()) {
    out += ",\"group_state\":";
    appendJsonString(out, c.state);
  }
  out += ",\"group_lat\":";
  appendDecimal(out, c.lat, 2);
  out += '}';
}

std::string dashed(std::string_view s) {
  std::string d(s);
  for (char& ch : d) {
    if (ch == ' ') ch = '-';
  }
  return d;
}

}  // namespace

void appendMeetupRecords(std::string& out, uint64_t seed, uint64_t first, uint64_t n,
                         int64_t startMtimeMs) {
  for (uint64_t i = first; i < first + n; ++i) {
    Rng r(seed, kRecord, i);
    auto skewed = [&r](uint64_t size) {
      double u = r.unit();
      return static_cast<uint64_t>(u * u * static_cast<double>(size));
    };
    uint64_t group = skewed(kGroups);
    Rng g(seed, kGroup, group);
    const City& city = kCities[g.below(kCities.size())];
    std::string_view interest = kInterests[g.below(kInterests.size())];
    std::string_view suffix = kGroupSuffixes[g.below(kGroupSuffixes.size())];
    std::string groupName = std::string(city.name) + " " + std::string(interest) + " " +
                            std::string(suffix);
    std::string urlname = std::string(city.slug) + "-" + dashed(interest) + "-" +
                          std::string(suffix);
    int64_t mtime = startMtimeMs + static_cast<int64_t>(i) * kMtimeStepMs +
                    static_cast<int64_t>(r.below(kMtimeStepMs));

    out += '{';
    if (r.chance(0.8)) {
      out += "\"venue\":";
      appendVenue(out, seed, group, skewed(kVenuesPerGroup), city);
      out += ',';
    }
    out += "\"visibility\":\"public\",\"response\":";
    out += r.chance(0.85) ? "\"yes\"" : "\"no\"";
    out += ",\"guests\":";
    double u = r.unit();
    appendInt(out, u < 0.92 ? 0 : u < 0.97 ? 1 : u < 0.99 ? 2 : static_cast<int64_t>(3 + r.below(23)));
    out += ",\"member\":";
    appendMember(out, seed, r.below(kMembers));
    out += ",\"rsvp_id\":";
    appendInt(out, kFirstRsvpId + static_cast<int64_t>(i));
    out += ",\"mtime\":";
    appendInt(out, mtime);
    out += ",\"event\":";
    appendEvent(out, seed, group, r.below(kEventsPerGroup), urlname, mtime);
    out += ",\"group\":";
    appendGroup(out, seed, group, city, groupName, urlname);
    out += "}\n";
  }
}

}  // namespace dstream::datagen
