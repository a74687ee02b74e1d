// The output family (Spark's output operations): foreachRDD, pprint, print and
// saveAsTextFiles. Outputs run on the batch thread, in definition order, every batch.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dstream/detail/partitions.h"
#include "dstream/export.h"
#include "dstream/format.h"
#include "dstream/operations/common.h"
#include "dstream/rdd.h"
#include "dstream/time.h"

namespace dstream {
namespace detail {
// Text outputs, implemented in src/outputs/.
DSTREAM_EXPORT std::string pprintHeader(Time t);  // pyspark: dashes, "Time: " + str(datetime) in local time, dashes
DSTREAM_EXPORT std::string printHeader(Time t);   // Scala: dashes, "Time: <ms> ms", dashes
DSTREAM_EXPORT void writeToStdout(const std::string& text);
// Spark's rddToFileName: "<prefix>-<ms>.<suffix>", leaving out an empty prefix or suffix and its separator.
DSTREAM_EXPORT std::string batchDirectoryName(const std::string& prefix, const std::string& suffix, Time t);
DSTREAM_EXPORT void writeBatchDirectory(const std::string& directory, const std::vector<std::string>& parts);

// A print block: `text` (the header), then up to `num` elements, "..." if there are more.
template <bool kScala, class T>
std::string renderBatch(std::string text, const RDD<T>& rdd, std::size_t num) {
  auto first = rdd.take(num + 1);
  for (std::size_t i = 0; i < first.size() && i < num; ++i) {
    if constexpr (kScala) scalaFormatTo(text, first[i]);
    else formatTo(text, first[i]);
    text += '\n';
  }
  if (first.size() > num) text += "...\n";
  text += '\n';
  return text;
}
}  // namespace detail

template <class Self, class T>
class OutputOperations {
 public:
  // f(const RDD<T>&) or f(const RDD<T>&, Time), on the batch thread, for every batch.
  template <class F>
  void foreachRDD(F f, std::string kind = "foreachRDD") const {
    DStream<T> d = self().toDStream();
    d.graph()->checkCanDefine(kind);
    auto node = d.node();
    d.graph()->addOutput({node.get(), std::move(kind), [node, f](Time t) mutable {
                            if (auto rdd = node->getOrCompute(t)) detail::invokeWithOptionalTime(f, t, *rdd);
                          }});
  }
  // pyspark's pprint: a header with the batch's local time, then the first `num` elements.
  void pprint(std::size_t num = 10) const {
    static_assert(Formattable<T>, "dstream: pprint needs a text form for the element type: specialise dstream::Formatter<T>");
    foreachRDD([num](const RDD<T>& rdd, Time t) {
      detail::writeToStdout(detail::renderBatch<false>(detail::pprintHeader(t), rdd, num));
    }, "pprint");
  }
  // Scala's print: like pprint, with "Time: <ms> ms", and elements as Scala's toString shows
  // them: pairs and tuples "(a,1)", optionals "Some(x)" / "None" (see format.h).
  void print(std::size_t num = 10) const {
    static_assert(Formattable<T>, "dstream: print needs a text form for the element type: specialise dstream::Formatter<T>");
    foreachRDD([num](const RDD<T>& rdd, Time t) {
      detail::writeToStdout(detail::renderBatch<true>(detail::printHeader(t), rdd, num));
    }, "print");
  }
  // One directory per batch, named as Spark names it: "prefix-<batch time ms>.suffix", without
  // "prefix-" when the prefix is empty and without ".suffix" when the suffix is; one
  // part-NNNNN file per partition (an element per line) and a _SUCCESS marker. The directory
  // appears atomically and a re-run of the same batch replaces it whole.
  void saveAsTextFiles(std::string prefix, std::string suffix = "") const {
    static_assert(Formattable<T>, "dstream: saveAsTextFiles needs a text form for the element type: specialise dstream::Formatter<T>");
    foreachRDD([prefix, suffix](const RDD<T>& rdd, Time t) {
      std::vector<std::string> parts(rdd.numPartitions());
      detail::forEachIndex(rdd.pool().get(), parts.size(), [&](std::size_t i) {
        for (const auto& x : rdd.partition(i)) {
          formatTo(parts[i], x);
          parts[i] += '\n';
        }
      });
      detail::writeBatchDirectory(detail::batchDirectoryName(prefix, suffix, t), parts);
    }, "saveAsTextFiles");
  }

 private:
  const Self& self() const { return static_cast<const Self&>(*this); }
};

}  // namespace dstream
