#include "catalogd/daemon/content_stream.h"

#include "common/sha256.h"

namespace recall::daemon {

Status stream_content(Responder& out, const store::ContentRow& content,
                      const std::vector<store::ChunkLocation>& chunks, ContentSource& source,
                      const ReadRequest& request, StreamCounters& counters) {
  // The response starts with the first chunk, once it was read: a missing volume or a corrupt
  // first chunk is a clean error response. A failure later cuts off the stream.
  auto begin = [&]() -> Status {
    if (out.responded()) return {};
    if (content.whole_sha)
      out.set_header("X-Recall-Sha256", to_hex(content.sha));
    else
      out.set_header("X-Recall-Verified", "chunks");  // no file hash is known; each chunk was checked
    return out.begin_stream(boost::beast::http::status::ok, "application/octet-stream", content.size);
  };
  RECALL_TRY(source.read(content, chunks, request, [&](std::span<const std::uint8_t> data) -> Status {
    RECALL_TRY(begin());
    RECALL_TRY(out.write(data));
    counters.bytes_served += data.size();
    return {};
  }));
  RECALL_TRY(begin());  // an empty file has no chunk
  return out.finish();
}

}  // namespace recall::daemon
