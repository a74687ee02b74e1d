target_sources(dstream PRIVATE
  src/outputs/text_outputs.cc)
