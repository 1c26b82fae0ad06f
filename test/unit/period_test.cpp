#include "core/period.h"

#include <gtest/gtest.h>

#include <ctime>

namespace kaireon {
namespace {

// utc returns Unix seconds of a UTC civil time (timegm is the oracle).
int64_t utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return timegm(&tm);
}

TEST(Period, HourAndDay) {
    EXPECT_EQ(period_start(CalendarPeriod::Hour, utc(2026, 3, 5, 14, 59, 59)), utc(2026, 3, 5, 14));
    EXPECT_EQ(period_end(CalendarPeriod::Hour, utc(2026, 3, 5, 14, 59, 59)), utc(2026, 3, 5, 15));
    EXPECT_EQ(period_start(CalendarPeriod::Day, utc(2026, 3, 5, 23, 59, 59)), utc(2026, 3, 5));
    EXPECT_EQ(period_end(CalendarPeriod::Day, utc(2026, 12, 31, 12)), utc(2027, 1, 1));
}

TEST(Period, IsoWeekStartsOnMonday) {
    // 2026-03-01 is a Sunday: its week began on Monday 2026-02-23.
    EXPECT_EQ(period_start(CalendarPeriod::Week, utc(2026, 3, 1, 23)), utc(2026, 2, 23));
    EXPECT_EQ(period_start(CalendarPeriod::Week, utc(2026, 3, 2)), utc(2026, 3, 2));
    EXPECT_EQ(period_end(CalendarPeriod::Week, utc(2026, 3, 2)), utc(2026, 3, 9));
    // Across a year boundary: 2027-01-01 is a Friday.
    EXPECT_EQ(period_start(CalendarPeriod::Week, utc(2027, 1, 1)), utc(2026, 12, 28));
    // Before 1970 (floor division).
    EXPECT_EQ(period_start(CalendarPeriod::Week, utc(1969, 12, 31, 12)), utc(1969, 12, 29));
}

TEST(Period, MonthsOfEveryLength) {
    EXPECT_EQ(period_start(CalendarPeriod::Month, utc(2026, 3, 31, 23, 59, 59)), utc(2026, 3, 1));
    EXPECT_EQ(period_end(CalendarPeriod::Month, utc(2026, 3, 31, 23, 59, 59)), utc(2026, 4, 1));
    EXPECT_EQ(period_end(CalendarPeriod::Month, utc(2028, 2, 29)), utc(2028, 3, 1));
    EXPECT_EQ(period_end(CalendarPeriod::Month, utc(2026, 12, 15)), utc(2027, 1, 1));
    EXPECT_EQ(period_start(CalendarPeriod::Month, utc(1969, 7, 20)), utc(1969, 7, 1));
}

TEST(Period, EveryDayOfFourYearsAgreesWithTimegm) {
    for (int64_t t = utc(2024, 1, 1); t < utc(2028, 1, 1); t += 86400 + 3601) {
        std::time_t tt = static_cast<std::time_t>(t);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        ASSERT_EQ(period_start(CalendarPeriod::Month, t), utc(tm.tm_year + 1900, tm.tm_mon + 1, 1)) << t;
        ASSERT_EQ(period_start(CalendarPeriod::Day, t), utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday)) << t;
        int monday_offset = (tm.tm_wday + 6) % 7;
        ASSERT_EQ(period_start(CalendarPeriod::Week, t),
                  utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) - monday_offset * 86400)
            << t;
    }
}

TEST(Period, Names) {
    EXPECT_EQ(calendar_period("month"), CalendarPeriod::Month);
    EXPECT_EQ(calendar_period("week"), CalendarPeriod::Week);
    EXPECT_FALSE(calendar_period("never").has_value());
    EXPECT_FALSE(calendar_period("Month").has_value());
}

TEST(Period, Cadences) {
    EXPECT_EQ(cadence_period("daily"), CalendarPeriod::Day);
    EXPECT_EQ(cadence_period("weekly"), CalendarPeriod::Week);
    EXPECT_EQ(cadence_period("monthly"), CalendarPeriod::Month);
    EXPECT_FALSE(cadence_period("total").has_value());
    EXPECT_FALSE(cadence_period("day").has_value());
}

}  // namespace
}  // namespace kaireon
