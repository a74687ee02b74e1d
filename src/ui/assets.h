// The Streaming UI's static files (Chart.js from Debian's libjs-chart.js, the page's script
// and style), embedded in the library at build time (embed_assets.cmake): the UI loads nothing
// from the network and needs no files at run time.
#pragma once

#include <string_view>

namespace dstream::ui {

struct Asset {
  std::string_view path;  // "/static/chart.min.js"
  std::string_view contentType;
  std::string_view bytes;
};

// The asset served at `path`, or null.
const Asset* findAsset(std::string_view path);

}  // namespace dstream::ui
