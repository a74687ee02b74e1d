target_sources(dstream PRIVATE
  src/core/context_core.cc
  src/core/node.cc)
