#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace webapp {

// A QR code (error correction level M, 8-bit mode) for `text` as an SVG
// document: one black path on a white square with the 4-module quiet zone
// the standard asks for. The SVG holds no text from the input, only module
// coordinates. nullopt when libqrencode cannot encode it.
std::optional<std::string> qr_svg(std::string_view text);

}  // namespace webapp
