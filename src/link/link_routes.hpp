#pragma once
#include "http/router.hpp"
#include "link/click_stream.hpp"
#include "link/link_service.hpp"

namespace links {

void add_routes(http::Router& router, LinkService& service, const ClickStream& clicks,
                bool secure_cookie);

}  // namespace links
