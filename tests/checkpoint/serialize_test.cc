#include "dstream/serialize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "dstream/time.h"

namespace {

using dstream::BinaryReader;
using dstream::BinaryWriter;
using dstream::Error;
using dstream::ErrorCode;
using ::testing::HasSubstr;

struct NoSerializer {
  int x;
};

enum class Colour : std::int8_t { kRed = -3, kGreen = 0, kBlue = 100 };
enum Plain { kOne = 1, kBig = 1 << 30 };

struct Venue {
  std::string name;
  std::optional<std::int64_t> id;
  std::vector<std::pair<std::string, double>> scores;
  bool operator==(const Venue&) const = default;
};

}  // namespace

template <>
struct dstream::Serializer<Venue> {
  static void write(BinaryWriter& w, const Venue& v) {
    w.write(v.name);
    w.write(v.id);
    w.write(v.scores);
  }
  static Venue read(BinaryReader& r) {
    Venue v;
    v.name = r.read<std::string>();
    v.id = r.read<std::optional<std::int64_t>>();
    v.scores = r.read<std::vector<std::pair<std::string, double>>>();
    return v;
  }
};

static_assert(!dstream::Serializable<NoSerializer>);
static_assert(!dstream::Serializable<std::vector<NoSerializer>>);
static_assert(!dstream::Serializable<std::map<int, NoSerializer>>);
static_assert(dstream::Serializable<std::vector<std::map<std::string, std::optional<int>>>>);
static_assert(dstream::Serializable<Venue>);
static_assert(dstream::WriteSerializable<std::string_view>);
static_assert(!dstream::Serializable<std::string_view>);

namespace {

void expectDataLoss(const std::function<void()>& fn, const std::string& substring) {
  try {
    fn();
    ADD_FAILURE() << "expected Error(kDataLoss) containing \"" << substring << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDataLoss) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(substring));
  }
}

// Round-trips `value`, then checks that every proper prefix of its bytes is reported as
// truncated (the encoding is self-delimiting, so no prefix is a whole value) and that a
// trailing byte is reported too.
template <class T>
void expectRoundTrip(const T& value) {
  SCOPED_TRACE(::testing::PrintToString(value));
  std::string bytes = dstream::serialize(value);
  EXPECT_EQ(dstream::deserialize<T>(bytes), value);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
    expectDataLoss([&] { dstream::deserialize<T>(std::string_view(bytes).substr(0, n), "ctx"); },
                   "truncated");
  }
  expectDataLoss([&] { dstream::deserialize<T>(bytes + "x"); }, "1 unexpected trailing bytes");
}

template <class T>
void expectIntegerLimits() {
  expectRoundTrip<T>(std::numeric_limits<T>::min());
  expectRoundTrip<T>(std::numeric_limits<T>::max());
  expectRoundTrip<T>(T{0});
  expectRoundTrip<T>(T{1});
  if constexpr (std::is_signed_v<T>) expectRoundTrip<T>(T{-1});
}

TEST(SerializeTest, IntegersRoundTripAtTheirLimits) {
  expectIntegerLimits<signed char>();
  expectIntegerLimits<unsigned char>();
  expectIntegerLimits<char>();
  expectIntegerLimits<char8_t>();
  expectIntegerLimits<char16_t>();
  expectIntegerLimits<char32_t>();
  expectIntegerLimits<wchar_t>();
  expectIntegerLimits<short>();
  expectIntegerLimits<unsigned short>();
  expectIntegerLimits<int>();
  expectIntegerLimits<unsigned>();
  expectIntegerLimits<long>();
  expectIntegerLimits<unsigned long>();
  expectIntegerLimits<long long>();
  expectIntegerLimits<unsigned long long>();
  expectIntegerLimits<std::int8_t>();
  expectIntegerLimits<std::uint64_t>();
}

TEST(SerializeTest, BoolsRoundTrip) {
  expectRoundTrip(true);
  expectRoundTrip(false);
}

TEST(SerializeTest, VarintsAndZigzagHaveTheDocumentedBytes) {
  EXPECT_EQ(dstream::serialize(std::uint64_t{0}), std::string(1, '\0'));
  EXPECT_EQ(dstream::serialize(std::uint64_t{127}), "\x7f");
  EXPECT_EQ(dstream::serialize(std::uint64_t{128}), "\x80\x01");
  EXPECT_EQ(dstream::serialize(std::int64_t{-1}), "\x01");
  EXPECT_EQ(dstream::serialize(std::int64_t{1}), "\x02");
  EXPECT_EQ(dstream::serialize(std::numeric_limits<std::uint64_t>::max()).size(), 10u);
  EXPECT_EQ(dstream::serialize(1.0), std::string("\0\0\0\0\0\0\xf0\x3f", 8));
  EXPECT_EQ(dstream::serialize(std::string("ab")), "\x02"
                                                   "ab");
  EXPECT_EQ(dstream::serialize(true), "\x01");
  // char's signedness is the platform's, so it is written as its unsigned byte.
  EXPECT_EQ(dstream::serialize(static_cast<char>(-1)), "\xff\x01");
}

TEST(SerializeTest, FixedWidthValuesAreLittleEndianLikeTheRecordAndLogHeaders) {
  BinaryWriter w;
  w.writeFixed32(0x04030201u);
  w.writeFixed64(0x0807060504030201ull);
  EXPECT_EQ(w.data(), std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08", 12));
  BinaryReader r(w.data());
  EXPECT_EQ(r.readFixed32(), 0x04030201u);
  EXPECT_EQ(r.readFixed64(), 0x0807060504030201ull);
  // The same coding the record file and write-ahead log headers use (detail/coding.h).
  std::string bytes;
  dstream::detail::putFixed64(bytes, 0xfedcba9876543210ull);
  dstream::detail::encodeFixed32(bytes.data(), 0xdeadbeefu);
  EXPECT_EQ(dstream::detail::decodeFixed32(bytes.data()), 0xdeadbeefu);
  EXPECT_EQ(dstream::detail::decodeFixed32(bytes.data() + 4), 0xfedcba98u);
  EXPECT_THROW(BinaryReader("\x01\x02\x03").readFixed32(), Error);
}

TEST(SerializeTest, FloatingPointRoundTripsBitForBit) {
  for (double d : {0.0, -0.0, 1.0 / 3, -1e300, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::lowest(), std::numeric_limits<double>::denorm_min(),
                   std::numeric_limits<double>::infinity()}) {
    expectRoundTrip(d);
    EXPECT_EQ(std::signbit(dstream::deserialize<double>(dstream::serialize(d))), std::signbit(d));
  }
  for (float f : {0.0f, -0.0f, 1.5f, std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::infinity()}) {
    expectRoundTrip(f);
  }
  double nan = std::nan("0x123");
  double back = dstream::deserialize<double>(dstream::serialize(nan));
  EXPECT_EQ(std::memcmp(&nan, &back, sizeof nan), 0);
}

TEST(SerializeTest, LongDoubleRoundTripsExactly) {
  using L = long double;
  for (L v : {L{0}, -L{0}, L{1} / 3, -L{2} / 7, std::numeric_limits<L>::max(),
              std::numeric_limits<L>::lowest(), std::numeric_limits<L>::min(),
              std::numeric_limits<L>::denorm_min(), std::numeric_limits<L>::infinity(),
              -std::numeric_limits<L>::infinity(), L{12345678901234567890.0L}}) {
    expectRoundTrip(v);
    EXPECT_EQ(std::signbit(dstream::deserialize<L>(dstream::serialize(v))), std::signbit(v));
  }
  EXPECT_TRUE(std::isnan(dstream::deserialize<L>(dstream::serialize(std::numeric_limits<L>::quiet_NaN()))));
  expectDataLoss([] { dstream::deserialize<L>(std::string("\x03", 1)); }, "invalid long double");
}

TEST(SerializeTest, EnumsRoundTripThroughTheirUnderlyingType) {
  expectRoundTrip(Colour::kRed);
  expectRoundTrip(Colour::kBlue);
  expectRoundTrip(kBig);
  // -3 as int8 zigzags to 5, one byte.
  EXPECT_EQ(dstream::serialize(Colour::kRed), "\x05");
  // A value that does not fit the underlying type is damage, not a silent wrap.
  expectDataLoss([] { dstream::deserialize<Colour>(dstream::serialize(std::int64_t{300})); },
                 "out of range for a 8-bit signed type");
}

TEST(SerializeTest, StringsRoundTripAndStringViewsWriteTheSameBytes) {
  expectRoundTrip(std::string());
  expectRoundTrip(std::string("with\0nul", 8));
  expectRoundTrip(std::string(300, 'x'));  // two-byte length
  std::string_view view = "venue";
  EXPECT_EQ(dstream::serialize(view), dstream::serialize(std::string(view)));
  EXPECT_EQ(dstream::deserialize<std::string>(dstream::serialize(view)), "venue");
}

TEST(SerializeTest, PairsTuplesAndOptionalsRoundTrip) {
  expectRoundTrip(std::pair<std::string, int>{"a", -5});
  expectRoundTrip(std::tuple<int, std::string, double, bool>{7, "x", 2.5, true});
  expectRoundTrip(std::tuple<>{});
  expectRoundTrip(std::optional<int>{});
  expectRoundTrip(std::optional<int>{42});
  expectRoundTrip(std::optional<std::optional<std::string>>{std::optional<std::string>{}});
}

TEST(SerializeTest, ContainersRoundTripIncludingNestedOnes) {
  expectRoundTrip(std::vector<int>{});
  expectRoundTrip(std::vector<int>{1, -2, 3, std::numeric_limits<int>::min()});
  expectRoundTrip(std::vector<bool>{true, false, true});
  expectRoundTrip(std::vector<std::vector<std::pair<std::string, std::optional<long>>>>{
      {{"a", 1}, {"b", std::nullopt}}, {}, {{"", -1}}});
  expectRoundTrip(std::array<int, 3>{4, 5, -6});
  expectRoundTrip(std::array<std::string, 2>{"x", "yz"});
  expectRoundTrip(std::array<int, 0>{});
  expectRoundTrip(std::map<std::string, std::vector<int>>{{"a", {1, 2}}, {"b", {}}});
  expectRoundTrip(std::unordered_map<int, std::string>{{1, "one"}, {-2, "minus two"}});
  expectRoundTrip(absl::flat_hash_map<std::string, std::map<int, double>>{
      {"k", {{1, 1.5}, {2, -0.25}}}, {"empty", {}}});
  expectRoundTrip(std::map<std::tuple<int, std::string>, std::array<bool, 2>>{
      {{1, "a"}, {true, false}}});
}

TEST(SerializeTest, ChronoDurationsAndTimePointsRoundTrip) {
  using namespace std::chrono_literals;
  expectRoundTrip(std::chrono::milliseconds(-1500));
  expectRoundTrip(std::chrono::seconds(30));
  expectRoundTrip(std::chrono::duration<double>(0.125));
  expectRoundTrip(std::chrono::nanoseconds::max());
  expectRoundTrip(dstream::timeFromMillis(1'700'000'000'000));
  expectRoundTrip(std::chrono::system_clock::time_point(std::chrono::system_clock::duration(123)));
  expectRoundTrip(std::chrono::sys_seconds(10s));
}

TEST(SerializeTest, UserSpecialisationsNestInsideBuiltIns) {
  Venue a{"Blue Note", 17, {{"jazz", 9.5}}};
  Venue b{"", std::nullopt, {}};
  EXPECT_EQ(dstream::deserialize<Venue>(dstream::serialize(a)), a);
  auto all = std::map<std::string, std::vector<Venue>>{{"ny", {a, b}}};
  EXPECT_EQ((dstream::deserialize<std::map<std::string, std::vector<Venue>>>(dstream::serialize(all))),
            all);
  std::string bytes = dstream::serialize(all);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    expectDataLoss(
        [&] { dstream::deserialize<decltype(all)>(std::string_view(bytes).substr(0, n)); },
        "truncated");
  }
}

TEST(SerializeTest, WriterAppendsAfterACallersPrefix) {
  BinaryWriter w(std::string(1, '\x07'));  // e.g. a format version byte
  w.write(std::string("s"));
  w.write(-2);
  std::string bytes = w.release();
  EXPECT_EQ(w.size(), 0u);
  BinaryReader r(bytes);
  EXPECT_EQ(r.readByte(), 7);
  EXPECT_EQ(r.read<std::string>(), "s");
  EXPECT_EQ(r.read<int>(), -2);
  EXPECT_TRUE(r.atEnd());
}

TEST(SerializeTest, ErrorsNameTheContextAndTheOffset) {
  try {
    dstream::deserialize<std::pair<int, std::string>>(std::string("\x02\x05"
                                                                  "ab"),
                                                      "/ckpt/checkpoint-5000");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
    EXPECT_THAT(e.what(), HasSubstr("/ckpt/checkpoint-5000: truncated input: a byte string of 5 "
                                    "bytes at offset 1 of 4"));
  }
}

TEST(SerializeTest, EveryReaderPrimitiveRejectsShortInput) {
  auto reader = [](std::string_view s) { return BinaryReader(s, "in"); };
  expectDataLoss([&] { reader("").readByte(); }, "in: truncated input: a byte at offset 0 of 0");
  expectDataLoss([&] { reader("\x80").readVarint(); }, "truncated input: a varint");
  expectDataLoss([&] { reader("\x80").readSignedVarint(); }, "truncated input: a varint");
  expectDataLoss([&] { reader("abc").readFixed32(); }, "need 4 bytes, 3 left");
  expectDataLoss([&] { reader("abcdefg").readFixed64(); }, "need 8 bytes, 7 left");
  expectDataLoss([&] { reader("\x03"
                              "ab")
                           .readBytes(); },
                 "truncated input: a byte string of 3 bytes");
  expectDataLoss([&] { reader("ab").readRaw(3, "a magic"); }, "truncated input: a magic");
}

TEST(SerializeTest, MalformedInputIsDataLossNotUndefinedBehaviour) {
  expectDataLoss([] { dstream::deserialize<bool>(std::string("\x02")); }, "invalid bool byte 2");
  expectDataLoss([] { dstream::deserialize<std::uint64_t>(std::string(11, '\xff')); },
                 "varint does not fit in 64 bits");
  expectDataLoss([] { dstream::deserialize<std::uint64_t>(std::string(9, '\xff') + "\x02"); },
                 "varint does not fit in 64 bits");
  expectDataLoss([] { dstream::deserialize<std::uint8_t>(dstream::serialize(256u)); },
                 "integer 256 out of range for a 8-bit unsigned type");
  expectDataLoss([] { dstream::deserialize<std::int16_t>(dstream::serialize(-40000)); },
                 "out of range for a 16-bit signed type");
  // Two entries with key 1: a written map never has that.
  BinaryWriter w;
  w.writeVarint(2);
  w.write(1);
  w.write(std::string("a"));
  w.write(1);
  w.write(std::string("b"));
  std::string dup = w.release();
  expectDataLoss([&] { dstream::deserialize<std::map<int, std::string>>(dup); },
                 "duplicate map key at offset 4");
  expectDataLoss([&] { dstream::deserialize<std::unordered_map<int, std::string>>(dup); },
                 "duplicate map key");
  expectDataLoss([&] { dstream::deserialize<absl::flat_hash_map<int, std::string>>(dup); },
                 "duplicate map key");
  // A huge count must fail on the missing bytes, not try to allocate 2^60 elements.
  BinaryWriter huge;
  huge.writeVarint(std::uint64_t{1} << 60);
  expectDataLoss([&] { dstream::deserialize<std::vector<int>>(huge.data()); }, "truncated");
  expectDataLoss([&] { dstream::deserialize<std::string>(huge.data()); },
                 "a byte string of 1152921504606846976 bytes");
  expectDataLoss([] { dstream::deserialize<std::optional<int>>(std::string("\x05")); },
                 "invalid bool byte 5");
}

}  // namespace
