// The public vocabulary of stateful streams: State<S>, the handle a mapWithState function
// reads and changes its key's state through, and StateSpec, which says how mapWithState
// runs (Spark's StateSpec.function(f).initialState(rdd).numPartitions(n).timeout(d)).
// StoredKey<K> names the key type that state and incremental windows keep across batches.
//
// Ownership: a State<S> is owned by the engine and lent to the user's function for one call;
// do not keep a pointer to it. A StateSpec owns the function and the initial-state RDD.
// Thread-safety: a State<S> is used by one thread at a time (the one running its partition).
// StateSpec values are immutable after being built.
#pragma once

#include <cstddef>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "dstream/error.h"
#include "dstream/rdd.h"
#include "dstream/time.h"

namespace dstream {

namespace detail {
template <class K>
struct StoredKeyTrait { using type = K; };
template <>
struct StoredKeyTrait<std::string_view> { using type = std::string; };
template <class A, class B>
struct StoredKeyTrait<std::pair<A, B>> {
  using type = std::pair<typename StoredKeyTrait<A>::type, typename StoredKeyTrait<B>::type>;
};
template <class... Ts>
struct StoredKeyTrait<std::tuple<Ts...>> { using type = std::tuple<typename StoredKeyTrait<Ts>::type...>; };
}  // namespace detail

// The form in which a key is kept across batches. A std::string_view points into a batch's
// buffer, which is freed once no window needs the batch: state keeps a std::string instead
// (also inside pairs and tuples). Other key types are kept as they are. Streams whose
// results outlive a batch (updateStateByKey, mapWithState's snapshots, the *AndWindow
// operations) therefore have StoredKey<K> keys.
template <class K>
using StoredKey = typename detail::StoredKeyTrait<K>::type;

// One key's state inside a mapWithState function (Spark's State[S]). The function may read
// it, replace it with update(), or delete it with remove(). When the key is timing out
// (idle longer than the spec's timeout), isTimingOut() is true, the value is nullopt, and
// the state is removed after the call whatever the function does.
template <class S>
class State {
 public:
  // True when the key has a state (before the call, or set by update() during it).
  bool exists() const { return value_.has_value(); }
  // Returns the state. Throws Error(kFailedPrecondition) when it does not exist.
  const S& get() const {
    if (!value_) throw Error(ErrorCode::kFailedPrecondition, "State::get: the key has no state; check exists() first");
    return *value_;
  }
  // The state, or nullopt (Spark's getOption).
  const std::optional<S>& getOption() const { return value_; }
  // Sets the key's state. Throws Error(kFailedPrecondition) when the key is timing out or
  // its state was removed in this call (as Spark does).
  void update(S s) {
    if (timingOut_) throw Error(ErrorCode::kFailedPrecondition, "State::update: the state is timing out and cannot be updated");
    if (removed_) throw Error(ErrorCode::kFailedPrecondition, "State::update: the state was removed in this call and cannot be updated");
    value_ = std::move(s);
    updated_ = true;
  }
  // Deletes the key's state. Throws Error(kFailedPrecondition) when the key is timing out
  // (it is being removed anyway) or the state was already removed in this call.
  void remove() {
    if (timingOut_) throw Error(ErrorCode::kFailedPrecondition, "State::remove: the state is timing out and is removed anyway");
    if (removed_) throw Error(ErrorCode::kFailedPrecondition, "State::remove: the state was already removed");
    value_.reset();
    removed_ = true;
    updated_ = false;
  }
  // True when this call is the last one for a key that has been idle longer than the timeout.
  bool isTimingOut() const { return timingOut_; }

  // For the engine: set before, and read after, each call of the user's function.
  State(std::optional<S> value, bool timingOut) : value_(std::move(value)), timingOut_(timingOut) {}
  bool isUpdated() const { return updated_; }
  bool isRemoved() const { return removed_; }
  std::optional<S>& value() { return value_; }

 private:
  std::optional<S> value_;
  bool timingOut_ = false;
  bool updated_ = false;
  bool removed_ = false;
};

namespace detail {
// The parameter list of a callable with one, non-template call operator (a lambda without
// `auto` parameters, a function pointer): how S is deduced from the user's function.
template <class F>
struct CallSignature : CallSignature<decltype(&std::decay_t<F>::operator())> {};
template <class R, class... A>
struct CallSignature<R (*)(A...)> {
  using Ret = R;
  using Args = std::tuple<A...>;
};
template <class C, class R, class... A>
struct CallSignature<R (C::*)(A...)> : CallSignature<R (*)(A...)> {};
template <class C, class R, class... A>
struct CallSignature<R (C::*)(A...) const> : CallSignature<R (*)(A...)> {};
template <class C, class R, class... A>
struct CallSignature<R (C::*)(A...) noexcept> : CallSignature<R (*)(A...)> {};
template <class C, class R, class... A>
struct CallSignature<R (C::*)(A...) const noexcept> : CallSignature<R (*)(A...)> {};

template <class F>
concept HasCallSignature = requires { typename CallSignature<F>::Args; };

template <class T>
struct StateArg { using type = void; };
template <class S>
struct StateArg<State<S>&> { using type = S; };

// S of a mapping function whose last parameter is State<S>&; void when it cannot be seen.
template <class F>
struct MappingState { using type = void; };
template <class F>
  requires HasCallSignature<F>
struct MappingState<F> {
  using Args = typename CallSignature<F>::Args;
  using type = typename StateArg<std::tuple_element_t<std::tuple_size_v<Args> - 1, Args>>::type;
};

// S of an updateStateByKey function returning std::optional<S> (or, in the partition form, a
// range of (key, S) pairs); void when it cannot be seen.
template <class F>
struct UpdatedState { using type = void; };
template <class F>
  requires HasCallSignature<F> && IsOptional<std::decay_t<typename CallSignature<F>::Ret>>::value
struct UpdatedState<F> { using type = typename std::decay_t<typename CallSignature<F>::Ret>::value_type; };
// The partition form returns a range of (key, state) pairs.
template <class F>
  requires HasCallSignature<F> && std::ranges::input_range<std::decay_t<typename CallSignature<F>::Ret>> &&
           PairLike<std::ranges::range_value_t<std::decay_t<typename CallSignature<F>::Ret>>>
struct UpdatedState<F> {
  using type = typename std::ranges::range_value_t<std::decay_t<typename CallSignature<F>::Ret>>::second_type;
};
}  // namespace detail

// How mapWithState runs. Build it with StateSpec::function(f) and chain the setters; each
// returns a new spec. S is the state type, F the mapping function, IK the key type of the
// initial-state RDD (void when there is none).
template <class S, class F, class IK = void>
class StateSpecOf {
 public:
  using StateType = S;
  using Function = F;
  using InitialKey = IK;
  using InitialRDD = std::conditional_t<std::is_void_v<IK>, std::nullptr_t, RDD<std::pair<IK, S>>>;

  StateSpecOf(F f, InitialRDD initial = {}, std::size_t numPartitions = 0, std::optional<Duration> timeout = {})
      : f_(std::move(f)), initial_(std::move(initial)), numPartitions_(numPartitions), timeout_(timeout) {}

  // Returns the spec with the states keys start with (Spark's initialState).
  template <class K>
  StateSpecOf<S, F, K> initialState(RDD<std::pair<K, S>> rdd) const {
    return StateSpecOf<S, F, K>(f_, std::move(rdd), numPartitions_, timeout_);
  }
  // Returns the spec with the state kept in `n` hash partitions (0: the context's parallelism).
  StateSpecOf numPartitions(std::size_t n) const { return StateSpecOf(f_, initial_, n, timeout_); }
  // Returns the spec with an idle timeout: a key that receives no data for longer than `d`
  // gets one last call with isTimingOut() and is removed.
  // Throws Error(kInvalidArgument) unless d > 0.
  StateSpecOf timeout(Duration d) const {
    if (d.count() <= 0) {
      throw Error(ErrorCode::kInvalidArgument, "StateSpec::timeout: timeout " + formatDuration(d) + " must be positive");
    }
    return StateSpecOf(f_, initial_, numPartitions_, d);
  }

  const F& function() const { return f_; }
  const InitialRDD& initial() const { return initial_; }
  std::size_t partitions() const { return numPartitions_; }
  const std::optional<Duration>& timeoutDuration() const { return timeout_; }

 private:
  F f_;
  InitialRDD initial_;
  std::size_t numPartitions_;
  std::optional<Duration> timeout_;
};

struct StateSpec {
  // Returns a spec running f for every record: f(const K& key, std::optional<V> value,
  // State<S>& state) -> M, or Spark's timed form f(Time, const K&, std::optional<V>, State<S>&)
  // -> std::optional<M> (nullopt emits nothing). K is passed as StoredKey<K>. S is read from
  // f's last parameter; give it explicitly (StateSpec::function<S>(f)) for generic lambdas.
  template <class S = void, class F>
  static auto function(F f) {
    using Deduced = std::conditional_t<std::is_void_v<S>, typename detail::MappingState<F>::type, S>;
    static_assert(!std::is_void_v<Deduced>,
                  "dstream: StateSpec::function(f): cannot see the state type S; f's last parameter must be "
                  "dstream::State<S>&, or name it: StateSpec::function<S>(f)");
    return StateSpecOf<Deduced, F>(std::move(f));
  }
};

}  // namespace dstream
