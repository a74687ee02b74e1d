target_sources(dstream PRIVATE
  src/core/context_core.cc
  src/core/node.cc
  src/core/testing_probe.cc)
target_sources(dstream PRIVATE
  src/core/checkpoint_codec.cc
  src/core/checkpoint_manager.cc
  src/core/crash_point.cc)
