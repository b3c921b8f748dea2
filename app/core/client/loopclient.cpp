#include "core/client/loopclient.h"

namespace loopdeck::client {
} // namespace loopdeck::client
