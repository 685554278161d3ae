#include "webapp/qr_svg.hpp"

#include <qrencode.h>

#include <memory>

namespace webapp {

namespace {

constexpr int kQuietZone = 4;

struct FreeQr {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

std::optional<std::string> qr_svg(std::string_view text) {
  // Version 0: the smallest symbol that holds the text. QRcode_encodeData
  // is documented thread-safe when libqrencode is built with pthread, as
  // Debian's is.
  std::unique_ptr<QRcode, FreeQr> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (!code) return std::nullopt;
  const int width = code->width;
  const auto side = std::to_string(width + 2 * kQuietZone);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " " + side +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"" + side + "\" height=\"" +
                    side + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      // Bit 0 of each byte is the module's colour (1 = dark); the others
      // describe its role, which a renderer does not need.
      if ((code->data[y * width + x] & 1) == 0) continue;
      svg +=
          "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h1v1h-1z";
    }
  }
  svg += "\"/></svg>\n";
  return svg;
}

}  // namespace webapp
