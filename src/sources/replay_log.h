// What each batch of a source read, kept so that a restart re-runs those batches on exactly
// the same input (doc/recovery.md). The source declares what a batch reads (`Input`): the
// file names of textFileStream, the write-ahead log records of socketTextStream, the offset
// ranges per partition of a Kafka direct stream. `Codec` writes and reads one Input; it
// defaults to dstream::Serializer<Input>.
//
// A source calls it from its InputNode hooks:
//
//   compute(t)            if (auto in = log.replayed(t)) read *in again; else read new data;
//                         then log.record(t, what was read)
//   clearOldData(t)       log.forgetOld(t)
//   prepareCheckpointing  log.keepFor(keepFor)
//   writeInputs           log.write(w, after, upTo), then anything else the source keeps
//   readInputs            log.read(r, upTo), then the same extras
//
// In a checkpoint the batches are `varint n, n x (time t, Input)`, times increasing: the
// encoding of std::map<Time, Input> (doc/checkpoint_format.md).
//
// Thread-safety: used by the batch thread only.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "dstream/error.h"
#include "dstream/log.h"
#include "dstream/serialize.h"
#include "dstream/time.h"

namespace dstream::detail {

// Writes and reads one batch's input; dstream::Serializer<Input> is one.
template <class C, class Input>
concept InputCodec = requires(BinaryWriter& w, BinaryReader& r, const Input& in) {
  C::write(w, in);
  { C::read(r) } -> std::convertible_to<Input>;
};

template <class Input, class Codec = Serializer<Input>>
  requires InputCodec<Codec, Input> && std::default_initializable<Input>
class ReplayLog {
 public:
  using Batches = std::map<Time, Input>;

  // `what` names one batch's input in error messages: "files", "write-ahead log records".
  explicit ReplayLog(std::string what) : what_(std::move(what)) {}

  // After a restart, for a batch that completed before the crash (t <= the checkpoint's
  // last batch): what it read then, or an empty Input if it recorded nothing. std::nullopt
  // for a batch that reads new data.
  std::optional<Input> replayed(Time t) const {
    if (!replayUntil_ || t > *replayUntil_) return std::nullopt;
    auto it = batches_.find(t);
    return it == batches_.end() ? Input{} : it->second;
  }
  bool recovering() const { return replayUntil_.has_value(); }
  // The checkpoint's last batch (or the last replayAlso), while recovering.
  std::optional<Time> replayUntil() const { return replayUntil_; }
  // While recovering: batch `t`, after the checkpoint's last, is known from elsewhere to have
  // read `input` (an exactly-once sink's commit record); it re-reads that too, and the batches
  // up to it that nothing recorded read nothing.
  void replayAlso(Time t, Input input) {
    record(t, std::move(input));
    replayUntil_ = std::max(replayUntil_.value_or(t), t);
  }

  // Records what batch `t` read, replacing an earlier record of `t`.
  void record(Time t, Input input) { batches_.insert_or_assign(t, std::move(input)); }
  // What batch `t` read, if it is still recorded.
  const Input* find(Time t) const {
    auto it = batches_.find(t);
    return it == batches_.end() ? nullptr : &it->second;
  }
  const Batches& batches() const { return batches_; }

  // The batches of the last `d` stay recorded (prepareCheckpointing's keepFor: the span a
  // checkpoint replays and the windows over the source read).
  void keepFor(Duration d) { keepFor_ = d; }
  // Forgets the batches at or before t - max(keepFor, atLeast) (from clearOldData(t)).
  // Recovered batches go the same way: a window computed after the re-run still reads them.
  void forgetOld(Time t, Duration atLeast = Duration(0)) {
    batches_.erase(batches_.begin(), batches_.upper_bound(t - std::max(keepFor_, atLeast)));
  }

  // Writes the batches in (after, upTo].
  void write(BinaryWriter& w, Time after, Time upTo) const {
    auto first = batches_.upper_bound(after), last = batches_.upper_bound(upTo);
    w.writeVarint(static_cast<std::uint64_t>(std::distance(first, last)));
    for (auto it = first; it != last; ++it) {
      w.write(it->first);
      Codec::write(w, it->second);
    }
  }

  // Reads what write() wrote. Throws Error(kDataLoss) naming the reader's context, the
  // offset and what was being read ("the files of batch 1700000001000 ms").
  Batches readBatches(BinaryReader& r) const {
    std::string reading = "the number of batches with recorded " + what_;
    try {
      Batches out;
      for (std::size_t n = r.readCount(), i = 0; i < n; ++i) {
        reading = "the time of a batch with recorded " + what_;
        std::size_t at = r.position();
        Time t = r.read<Time>();
        if (!out.empty() && t <= out.rbegin()->first) {
          r.fail("batch time " + std::to_string(toMillis(t)) + " ms is not after " +
                     std::to_string(toMillis(out.rbegin()->first)) + " ms",
                 at);
        }
        reading = "the " + what_ + " of batch " + std::to_string(toMillis(t)) + " ms";
        out.emplace_hint(out.end(), t, Codec::read(r));
      }
      return out;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kDataLoss) throw;
      throw Error(ErrorCode::kDataLoss, std::string(withoutDstreamPrefix(e.what())) + " (reading " + reading + ")");
    }
  }

  // After a restart: batches up to `upTo` re-read `batches`, later ones read new data. The
  // recovered batches are also recorded again, so that the next checkpoint still has them
  // if it must be recovered from too.
  void recover(Batches batches, Time upTo) {
    batches_ = std::move(batches);
    replayUntil_ = upTo;
  }
  void read(BinaryReader& r, Time upTo) { recover(readBatches(r), upTo); }

 private:
  std::string what_;
  Batches batches_;
  Duration keepFor_{0};
  std::optional<Time> replayUntil_;  // set by recover()
};

}  // namespace dstream::detail
