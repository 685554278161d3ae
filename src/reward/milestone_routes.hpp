#pragma once
#include "http/router.hpp"
#include "reward/milestone_service.hpp"

namespace reward {

// docs/API.md, Milestones: create, list, deactivate (admin).
void add_milestone_routes(http::Router& router, MilestoneService& service);

}  // namespace reward
