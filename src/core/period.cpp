#include "core/period.h"

namespace kaireon {
namespace {

constexpr int64_t kDay = 86400;

// Days since 1970-01-01 <-> civil dates (Howard Hinnant's algorithms), so the
// arithmetic is exact for any year and independent of the C library's time zone.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int64_t period_start(CalendarPeriod period, int64_t t) {
    int64_t days = floor_div(t, kDay);
    switch (period) {
        case CalendarPeriod::Hour: return floor_div(t, 3600) * 3600;
        case CalendarPeriod::Day: return days * kDay;
        case CalendarPeriod::Week: {
            // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
            int64_t weekday = ((days + 3) % 7 + 7) % 7;
            return (days - weekday) * kDay;
        }
        case CalendarPeriod::Month: {
            int64_t y;
            unsigned m, d;
            civil_from_days(days, y, m, d);
            return days_from_civil(y, m, 1) * kDay;
        }
    }
    return t;
}

int64_t period_end(CalendarPeriod period, int64_t t) {
    int64_t start = period_start(period, t);
    switch (period) {
        case CalendarPeriod::Hour: return start + 3600;
        case CalendarPeriod::Day: return start + kDay;
        case CalendarPeriod::Week: return start + 7 * kDay;
        case CalendarPeriod::Month: {
            int64_t y;
            unsigned m, d;
            civil_from_days(floor_div(start, kDay), y, m, d);
            if (++m > 12) {
                m = 1;
                ++y;
            }
            return days_from_civil(y, m, 1) * kDay;
        }
    }
    return start;
}

std::optional<CalendarPeriod> calendar_period(std::string_view name) {
    if (name == "hour") return CalendarPeriod::Hour;
    if (name == "day") return CalendarPeriod::Day;
    if (name == "week") return CalendarPeriod::Week;
    if (name == "month") return CalendarPeriod::Month;
    return std::nullopt;
}

std::optional<CalendarPeriod> cadence_period(std::string_view cadence) {
    if (cadence == "daily") return CalendarPeriod::Day;
    if (cadence == "weekly") return CalendarPeriod::Week;
    if (cadence == "monthly") return CalendarPeriod::Month;
    return std::nullopt;
}

}  // namespace kaireon
