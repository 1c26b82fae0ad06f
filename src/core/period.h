// period.h - calendar periods in UTC: the hour, day, ISO week (from Monday)
// and month an instant falls in. Usage, quotas and caps count per period.
#pragma once
#include "core/pure.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace kaireon {

enum class CalendarPeriod { Hour, Day, Week, Month };

// period_start returns the first second (Unix time) of the `period` that
// contains `t`; period_end returns the first second of the next one.
int64_t period_start(CalendarPeriod period, int64_t t);
int64_t period_end(CalendarPeriod period, int64_t t);

// calendar_period returns the period called `name` ("hour", "day", "week",
// "month"), or nullopt (also for "never").
std::optional<CalendarPeriod> calendar_period(std::string_view name);

// cadence_period returns the period of a catalog cadence ("daily",
// "weekly", "monthly": caps and offer budgets), or nullopt (also for
// "total").
std::optional<CalendarPeriod> cadence_period(std::string_view cadence);

}  // namespace kaireon
