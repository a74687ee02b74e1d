// Compiled by a CTest test that expects it NOT to compile: a type without a Serializer.
#include "dstream/serialize.h"

struct NoSerializer {
  int x;
};

int main() { return static_cast<int>(dstream::serialize(NoSerializer{1}).size()); }
