// Streams a file's bytes from its volumes to an HTTP client, verified as ContentSource::read does.
// On any mismatch the stream ends with the error in its trailer (Responder::fail_stream), so a
// client never receives a silently wrong file and learns why.
#pragma once

#include "catalogd/daemon/content_reader.h"
#include "catalogd/http/responder.h"

namespace recall::daemon {

Status stream_content(Responder& out, const store::ContentRow& content,
                      const std::vector<store::ChunkLocation>& chunks, ContentSource& source,
                      const ReadRequest& request, StreamCounters& counters);

}  // namespace recall::daemon
