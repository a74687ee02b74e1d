target_sources(dstream PRIVATE
  src/json/parsed_line.cc
  src/json/raw_span.cc
  src/json/record.cc)
