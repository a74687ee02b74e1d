target_sources(dstream PRIVATE src/windows/window_checks.cc)
