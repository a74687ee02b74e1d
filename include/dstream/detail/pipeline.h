// Fused narrow operations. A chain such as flatMap(split).map(pair).filter(keep) is one
// Pipe: a value whose call operator takes one input element and a sink, and pushes zero or
// more outputs into the sink. Stages are templates on the user's callables, composed at
// compile time, so the whole chain inlines into one loop over a partition with no
// intermediate vectors and no per-record indirect call.
#pragma once

#include <concepts>
#include <functional>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>

namespace dstream::detail {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// What flatMap accepts from a user function: any range, or an optional (0 or 1 element).
template <class R>
struct FlatElement;
template <class R>
  requires IsOptional<std::decay_t<R>>::value
struct FlatElement<R> {
  using type = typename std::decay_t<R>::value_type;
};
template <class R>
  requires(!IsOptional<std::decay_t<R>>::value && std::ranges::input_range<std::remove_reference_t<R>>)
struct FlatElement<R> {
  using type = std::decay_t<std::ranges::range_reference_t<std::remove_reference_t<R>>>;
};

template <class R>
concept FlatMappable = requires { typename FlatElement<R>::type; };

// Every stage names itself (static name()): the operation it is, for errors and for the
// fused node's kind ("flatMap.map" for a chain).
struct IdentityStage {
  static std::string name() { return "identity"; }
  template <class X>
  using Out = X;
  template <class X, class Sink>
  void operator()(X&& x, Sink& sink) {
    sink(std::forward<X>(x));
  }
};

template <class F>
struct MapStage {
  static std::string name() { return "map"; }
  F f;
  template <class X>
  using Out = std::decay_t<std::invoke_result_t<F&, const X&>>;
  template <class X, class Sink>
  void operator()(X&& x, Sink& sink) {
    sink(std::invoke(f, std::as_const(x)));
  }
};

template <class F>
struct FilterStage {
  static std::string name() { return "filter"; }
  F f;
  template <class X>
  using Out = X;
  template <class X, class Sink>
  void operator()(X&& x, Sink& sink) {
    if (std::invoke(f, std::as_const(x))) sink(std::forward<X>(x));
  }
};

template <class F>
struct FlatMapStage {
  static std::string name() { return "flatMap"; }
  F f;
  template <class X>
  using Out = typename FlatElement<std::invoke_result_t<F&, const X&>>::type;
  template <class X, class Sink>
  void operator()(X&& x, Sink& sink) {
    decltype(auto) r = std::invoke(f, std::as_const(x));
    if constexpr (IsOptional<std::decay_t<decltype(r)>>::value) {
      if (r) sink(std::move(*r));
    } else {
      for (auto&& y : r) sink(std::forward<decltype(y)>(y));
    }
  }
};

// mapValues / flatMapValues on pairs keep the key.
template <class F>
struct MapValuesStage {
  static std::string name() { return "mapValues"; }
  F f;
  template <class X>
  using Out = std::pair<typename X::first_type,
                        std::decay_t<std::invoke_result_t<F&, const typename X::second_type&>>>;
  template <class X, class Sink>
  void operator()(X&& x, Sink& sink) {
    sink(Out<std::decay_t<X>>(x.first, std::invoke(f, std::as_const(x.second))));
  }
};

template <class F>
struct FlatMapValuesStage {
  static std::string name() { return "flatMapValues"; }
  F f;
  template <class X>
  using Out = std::pair<typename X::first_type,
                        typename FlatElement<std::invoke_result_t<F&, const typename X::second_type&>>::type>;
  template <class X, class Sink>
  void operator()(X&& x, Sink& sink) {
    decltype(auto) r = std::invoke(f, std::as_const(x.second));
    using O = Out<std::decay_t<X>>;
    if constexpr (IsOptional<std::decay_t<decltype(r)>>::value) {
      if (r) sink(O(x.first, std::move(*r)));
    } else {
      for (auto&& y : r) sink(O(x.first, std::forward<decltype(y)>(y)));
    }
  }
};

// A then B: B consumes what A emits.
template <class A, class B>
struct ThenStage {
  static std::string name() { return A::name() + "." + B::name(); }
  A a;
  B b;
  template <class X>
  using Out = typename B::template Out<typename A::template Out<X>>;
  template <class X, class Sink>
  void operator()(X&& x, Sink& sink) {
    auto next = [&](auto&& y) { b(std::forward<decltype(y)>(y), sink); };
    a(std::forward<X>(x), next);
  }
};

template <class A, class B>
auto then(A a, B b) {
  if constexpr (std::is_same_v<A, IdentityStage>) {
    return b;
  } else {
    return ThenStage<A, B>{std::move(a), std::move(b)};
  }
}

template <class Pipe, class In>
using PipeOut = typename Pipe::template Out<In>;

}  // namespace dstream::detail
