# The Streaming UI (doc/monitoring.md): an HTTP server on Debian's cpp-httplib, pages whose
# assets (Chart.js from Debian's libjs-chart.js, the page's script and style) are embedded
# in the library at build time.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CPPHTTPLIB cpp-httplib>=0.11)
if(NOT CPPHTTPLIB_FOUND)
  message(FATAL_ERROR "cpp-httplib (0.11 or newer) not found: the Streaming UI serves HTTP with it; "
                      "install Debian's libcpp-httplib-dev (apt-get install libcpp-httplib-dev)")
endif()
find_file(DSTREAM_CHARTJS chart.min.js PATHS /usr/share/javascript/chart.js NO_DEFAULT_PATH
          DOC "Chart.js's UMD build, embedded in the Streaming UI")
if(NOT DSTREAM_CHARTJS)
  message(FATAL_ERROR "Chart.js not found at /usr/share/javascript/chart.js/chart.min.js: the Streaming UI "
                      "embeds it; install Debian's libjs-chart.js (apt-get install libjs-chart.js) or set "
                      "DSTREAM_CHARTJS to a chart.min.js (Chart.js 3)")
endif()

# <url path>|<file>, joined with commas (a list's semicolons do not survive the command line).
set(dstream_ui_asset_files ${DSTREAM_CHARTJS} ${CMAKE_CURRENT_SOURCE_DIR}/src/ui/assets/streaming.js
  ${CMAKE_CURRENT_SOURCE_DIR}/src/ui/assets/streaming.css)
set(dstream_ui_assets "/static/chart.min.js|${DSTREAM_CHARTJS},/static/streaming.js|${CMAKE_CURRENT_SOURCE_DIR}/src/ui/assets/streaming.js,/static/streaming.css|${CMAKE_CURRENT_SOURCE_DIR}/src/ui/assets/streaming.css")
add_custom_command(
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/ui_assets.cc
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${CMAKE_CURRENT_BINARY_DIR}/ui_assets.cc "-DASSETS=${dstream_ui_assets}"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/src/ui/embed_assets.cmake
  DEPENDS ${dstream_ui_asset_files} ${CMAKE_CURRENT_SOURCE_DIR}/src/ui/embed_assets.cmake
  COMMENT "Embedding the Streaming UI's assets"
  VERBATIM)

target_sources(dstream PRIVATE
  src/ui/json_writer.cc
  src/ui/metrics.cc
  src/ui/pages.cc
  src/ui/rest_api.cc
  src/ui/streaming_status.cc
  src/ui/streaming_ui.cc
  ${CMAKE_CURRENT_BINARY_DIR}/ui_assets.cc)
# httplib.h must see the definitions the library was built with (its classes' layout).
set_source_files_properties(src/ui/streaming_ui.cc PROPERTIES COMPILE_OPTIONS "${CPPHTTPLIB_CFLAGS_OTHER}")
# By name: the static library's users link -lcpp-httplib from the system's library path.
foreach(lib dstream dstream_shared)
  target_link_libraries(${lib} PRIVATE ${CPPHTTPLIB_LIBRARIES})
endforeach()
