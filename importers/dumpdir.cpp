#include "importers/dumpdir.h"

#include "common/paths.h"

namespace recall::import {

Result<std::vector<DumpdirEntry>> parse_dumpdir(std::string_view data) {
  std::vector<DumpdirEntry> out;
  std::size_t i = 0;
  while (i < data.size()) {
    const std::size_t end = data.find('\0', i);
    if (end == std::string_view::npos)
      return make_error(ErrorKind::Invalid,
                        "dumpdir entry at byte " + std::to_string(i) + " is not terminated");
    if (end == i) break;  // the empty entry that ends the list
    DumpdirEntry e{data[i], std::string(data.substr(i + 1, end - i - 1))};
    switch (e.code) {
      case 'Y':
      case 'N':
      case 'D':
        if (e.name.empty() || e.name == "." || e.name == ".." || e.name.find('/') != std::string::npos)
          return make_error(ErrorKind::Invalid,
                            "dumpdir entry '" + escape_for_display(e.name) + "' is not a plain file name");
        break;
      case 'R':
      case 'T':
      case 'X':
        break;
      default:
        return make_error(ErrorKind::Invalid, "dumpdir entry at byte " + std::to_string(i) +
                                                  " has unknown code '" +
                                                  escape_for_display(std::string(1, e.code)) + "'");
    }
    out.push_back(std::move(e));
    i = end + 1;
  }
  return out;
}

}  // namespace recall::import
