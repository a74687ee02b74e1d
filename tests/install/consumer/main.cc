// A user's program built against an installed dstream.
#include <dstream/dstream.h>
#include <dstream/testing.h>

#include <algorithm>
#include <iostream>

int main() {
  auto out = dstream::testing::runStream<std::string>(
      {{"a b a"}}, [](auto s) {
        return s.flatMap([](const std::string& l) { return dstream::split(l, ' '); })
            .map([](std::string_view w) { return std::pair<std::string, long>(w, 1L); })
            .reduceByKey([](long a, long b) { return a + b; });
      });
  auto batch = out.at(0);
  std::sort(batch.begin(), batch.end());
  std::cout << "counts:";
  for (const auto& kv : batch) std::cout << " " << dstream::toText(kv);
  std::cout << "\n";
}
