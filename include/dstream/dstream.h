// The umbrella header: everything a dstream program needs.
#pragma once

#include "dstream/bad_records.h"
#include "dstream/clock.h"
#include "dstream/error.h"
#include "dstream/format.h"
#include "dstream/listener.h"
#include "dstream/rdd.h"
#include "dstream/rdd_queue.h"
#include "dstream/stream.h"
#include "dstream/streaming_context.h"
#include "dstream/text.h"
#include "dstream/time.h"
