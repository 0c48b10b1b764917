// Point records (importers/point_record.h) as `recall scan` meets them on a volume: the input is
// taken as one part's plain bytes and as a decoded record. A record that decodes must survive a
// round trip: encoded again it decodes, and encodes to the same bytes once more.
#include <cstdlib>

#include "importers/point_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> in(data, size);
  if (auto part = recall::import::parse_record_part(in); part.ok()) {
    recall::import::RecordAssembler a;
    std::size_t incomplete = 0;
    if (a.add(*part).ok()) (void)a.finish(&incomplete);
  }
  auto rec = recall::import::decode_point_record(in);
  if (!rec.ok()) return 0;
  const auto once = recall::import::encode_point_record(*rec);
  auto again = recall::import::decode_point_record(once);
  if (!again.ok() || recall::import::encode_point_record(*again) != once) std::abort();
  return 0;
}
