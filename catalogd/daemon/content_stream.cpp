#include "catalogd/daemon/content_stream.h"

#include "catalogd/http/http_errors.h"
#include "common/sha256.h"

namespace recall::daemon {

Status stream_content(Responder& out, const store::ContentRow& content,
                      const std::vector<store::ChunkLocation>& chunks, ContentSource& source,
                      const ReadRequest& request, StreamCounters& counters) {
  // The response starts with the first chunk, once it was read: a missing volume or a corrupt
  // first chunk is a clean error response. The body is chunked, so that damage found later
  // still reaches the client as that same error, in the trailer that ends the stream (a cut-off
  // body would only say "lost the connection"). X-Recall-Size says how long the file is.
  auto begin = [&]() -> Status {
    if (out.responded()) return {};
    if (content.whole_sha)
      out.set_header("X-Recall-Sha256", to_hex(content.sha));
    else
      out.set_header("X-Recall-Verified", "chunks");  // no file hash is known; each chunk was checked
    out.set_header("X-Recall-Size", std::to_string(content.size));
    out.set_header("Trailer", kStreamErrorTrailer);
    return out.begin_stream(boost::beast::http::status::ok, "application/octet-stream", std::nullopt);
  };
  Status read = source.read(content, chunks, request, [&](std::span<const std::uint8_t> data) -> Status {
    RECALL_TRY(begin());
    RECALL_TRY(out.write(data));
    counters.bytes_served += data.size();
    return {};
  });
  if (!read.ok()) return out.responded() ? out.fail_stream(read.error()) : read.error();
  RECALL_TRY(begin());  // an empty file has no chunk
  return out.finish();
}

}  // namespace recall::daemon
