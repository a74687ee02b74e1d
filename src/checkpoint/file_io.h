// Moved to util/file_io.h (general file I/O belongs to the bottom layer). This forwarder
// remains only for streaming_context.cc, whose owner switches its include; then delete it.
#pragma once

#include "util/file_io.h"
