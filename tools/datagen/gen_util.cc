#include "datagen/gen_util.h"

#include <cstdio>

namespace dstream::datagen::internal {

void appendDecimal(std::string& out, double v, int decimals) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  while (n > 1 && buf[n - 1] == '0') --n;
  if (n > 1 && buf[n - 1] == '.') --n;
  out.append(buf, static_cast<std::size_t>(n));
}

}  // namespace dstream::datagen::internal
