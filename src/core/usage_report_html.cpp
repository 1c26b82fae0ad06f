// usage_report_html.cpp - report_html: the usage dashboard (SPEC section 5)
// as one self-contained HTML page that a person opens or prints. No script,
// no external resource (fonts, images, links): the page is mailed, archived
// and opened offline, and nothing in it may phone home. Every text that comes
// from the tenant is escaped, so a hostile name stays text.
//
// The figures carry stable ids (current, limit, percent, projected,
// month-decisions) whose text is exactly the plain number, so tests and
// scrapers compare them with usage_summary() without parsing prose.
#include "core/usage_report.h"

#include "core/license.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kaireon::quota {
namespace {

constexpr int64_t kDay = 86400;

// ---- text --------------------------------------------------------------------

// escape makes `text` safe in element content and in quoted attribute
// values. C0 control characters other than tab, newline and carriage return
// are dropped: they are parse errors in HTML and mean nothing in a name.
std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
                out += c;
        }
    }
    return out;
}

// number prints integral values plainly ("9000", no thousands separator) and
// others as the JSON of usage_summary() writes them ("12.5"), so the page and
// the JSON read the same. Not a number reads "n/a" rather than "nan".
std::string number(double value) {
    if (!std::isfinite(value)) return "n/a";
    return json_number(value).dump();
}

// percent prints one decimal ("90.0"); callers add " %".
std::string percent(double value) {
    if (!std::isfinite(value)) return "n/a";
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.1f", value);
    return buffer;
}

// share returns a flow's part of the month in percent with one decimal, in
// report_json's order of operations so that both round alike (0 when there
// is no whole).
double share(double part, double whole) {
    if (!(whole > 0)) return 0;
    return std::round(part * 1000.0 / whole) / 10.0;
}

// of_limit returns usage / limit in percent with one decimal, as report_json
// computes projectedPercent and a feature's percentageUsed (limit > 0).
double of_limit(double usage, double limit) { return std::round(usage / limit * 1000.0) / 10.0; }

// month_caption returns "March 2026" for any instant of that month (UTC).
std::string month_caption(int64_t month_start) {
    static constexpr std::array<std::string_view, 12> kMonths = {"January",   "February", "March",    "April",
                                                                 "May",       "June",     "July",     "August",
                                                                 "September", "October",  "November", "December"};
    const std::string iso = license::iso8601(month_start);  // "2026-03-01T00:00:00Z"
    int month = 0;
    if (iso.size() >= 7) month = (iso[5] - '0') * 10 + (iso[6] - '0');
    if (month < 1 || month > 12) return iso.substr(0, 7);
    return std::string(kMonths[static_cast<size_t>(month - 1)]) + " " + iso.substr(0, 4);
}

// ---- the chart ---------------------------------------------------------------

// coord prints an SVG coordinate with one decimal; a non-finite value (which
// the geometry below never produces, but a NaN would break the whole SVG)
// reads 0.
std::string coord(double value) {
    if (!std::isfinite(value)) value = 0;
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.1f", value);
    return buffer;
}

// tick_label prints an axis value, shortened from a million on so that the
// labels fit the margin ("2.5M", "40B").
std::string tick_label(double value) {
    if (value < 1e6) return number(value);
    const double scale = value >= 1e12 ? 1e12 : value >= 1e9 ? 1e9 : 1e6;
    const char* unit = value >= 1e12 ? "T" : value >= 1e9 ? "B" : "M";
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.4g%s", value / scale, unit);
    return buffer;
}

// Axis is a value axis from 0 to `top` with ticks every `step`, both whole
// numbers: decisions are counted, so a tick at 2.5 would mean nothing.
struct Axis {
    double top = 1;
    double step = 1;
};

// nice_axis returns an axis reaching at least `max_value` in about four steps
// of 1, 2, 2.5 or 5 times a power of ten (2.5 only from 25 on, to stay whole).
Axis nice_axis(double max_value) {
    if (!(max_value >= 1) || !std::isfinite(max_value)) return {1, 1};
    const double raw = max_value / 4;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / magnitude;
    double step = fraction <= 1                        ? 1
                  : fraction <= 2                      ? 2
                  : fraction <= 2.5 && magnitude >= 10 ? 2.5
                  : fraction <= 5                      ? 5
                                                       : 10;
    step = std::max(1.0, step * magnitude);
    return {std::ceil(max_value / step) * step, step};
}

// The SVG's geometry: a 900 x 360 view box, the plot inside the margins
// (left: cumulative axis, right: per-day axis, bottom: day numbers).
constexpr double kWidth = 900;
constexpr double kHeight = 360;
constexpr double kLeft = 64;
constexpr double kRight = kWidth - 56;
constexpr double kTop = 30;
constexpr double kBottom = kHeight - 52;

// How far above the limit and the count the scale may reach for the
// projection.
constexpr double kMaxScale = 4;

// Colours, shared with the page's legend.
constexpr std::string_view kBarColour = "#9ab8d8";
constexpr std::string_view kLineColour = "#1f4e8c";
constexpr std::string_view kProjectionColour = "#6a3d9a";
constexpr std::string_view kWarningColour = "#b26b00";
constexpr std::string_view kNotifyColour = "#d9480f";
constexpr std::string_view kLimitColour = "#c62828";

// Chart holds what the SVG is drawn from.
struct Chart {
    int64_t month_start = 0;
    int64_t month_end = 0;  // exclusive
    int days = 1;           // slots on the x axis
    Axis left;              // cumulative count, thresholds, projection
    Axis right;             // decisions per day
    std::optional<double> limit;

    double x(int64_t t) const {
        const double span = static_cast<double>(month_end - month_start);
        const double f = std::clamp(static_cast<double>(t - month_start) / span, 0.0, 1.0);
        return kLeft + f * (kRight - kLeft);
    }
    double y(double value) const { return kBottom - std::clamp(value / left.top, 0.0, 1.0) * (kBottom - kTop); }
    double y_daily(double value) const { return kBottom - std::clamp(value / right.top, 0.0, 1.0) * (kBottom - kTop); }
};

// chart_month sets the month the x axis spans: the period's calendar month,
// or, should the period be unusable (a zero ReportData), the days of `daily`
// themselves (a month's worth at most).
void chart_month(const ReportData& data, Chart& chart) {
    const Period& period = data.quota.period;
    const int64_t span = period.end - period.month_start;
    if (span >= kDay && span <= 31 * kDay) {
        chart.month_start = period.month_start;
        chart.month_end = period.end;
    } else {
        const int64_t days = std::clamp<int64_t>(static_cast<int64_t>(data.daily.size()), 1, 31);
        chart.month_start = data.daily.empty() ? period.month_start : data.daily.front().day;
        chart.month_end = chart.month_start + days * kDay;
    }
    chart.days = static_cast<int>((chart.month_end - chart.month_start + kDay - 1) / kDay);
}

// in_month tells whether a day of `daily` belongs on the x axis.
bool in_month(const Chart& chart, const DailyCount& day) {
    return day.day >= chart.month_start && day.day < chart.month_end;
}

// Threshold is one of the 90/95/100 % lines.
struct Threshold {
    int percent;
    std::string_view label;
    std::string_view colour;
    std::string_view dash;
};
constexpr Threshold kThresholds[] = {
    {kWarningPercent, "90 %", kWarningColour, "6 4"},
    {kNotifyPercent, "95 %", kNotifyColour, "6 4"},
    {kExceededPercent, "100 % (limit)", kLimitColour, ""},
};

// thresholds_svg draws the lines at 90, 95 and 100 % of the limit, crisp
// (not anti-aliased: three lines a few pixels apart would blur). Their
// labels sit at the plot's left end, where the cumulative line is still low,
// and are pushed apart upwards when the lines are closer than a line of text
// (the three always are at a zero limit).
std::string thresholds_svg(const Chart& chart) {
    std::string out;
    if (!chart.limit) return out;
    double previous_label = kHeight;
    for (const Threshold& threshold : kThresholds) {
        const double y = chart.y(*chart.limit * threshold.percent / 100.0);
        const double label_y = std::min(y - 4, previous_label - 14);
        previous_label = label_y;
        out += "<g class=\"threshold\" data-percent=\"" + std::to_string(threshold.percent) + "\">";
        out += "<line x1=\"" + coord(kLeft) + "\" x2=\"" + coord(kRight) + "\" y1=\"" + coord(y) + "\" y2=\"" +
               coord(y) + "\" stroke=\"" + std::string(threshold.colour) +
               "\" stroke-width=\"1.5\" shape-rendering=\"crispEdges\"";
        if (!threshold.dash.empty()) out += " stroke-dasharray=\"" + std::string(threshold.dash) + "\"";
        out += "/>";
        out += "<text x=\"" + coord(kLeft + 6) + "\" y=\"" + coord(label_y) +
               "\" style=\"fill:" + std::string(threshold.colour) + "\" class=\"threshold-label\">" +
               std::string(threshold.label) + "</text></g>\n";
    }
    return out;
}

// axes_svg draws the grid, the left (cumulative) and right (per day) value
// axes, and a day number under every day of the month.
std::string axes_svg(const Chart& chart) {
    std::string out = "<g class=\"axes\">\n";
    for (double v = 0; v <= chart.left.top + 0.5; v += chart.left.step) {
        const double y = chart.y(v);
        out += "<line class=\"grid\" x1=\"" + coord(kLeft) + "\" x2=\"" + coord(kRight) + "\" y1=\"" + coord(y) +
               "\" y2=\"" + coord(y) + "\"/>";
        out += "<text class=\"tick\" x=\"" + coord(kLeft - 6) + "\" y=\"" + coord(y + 4) + "\" text-anchor=\"end\">" +
               tick_label(v) + "</text>\n";
    }
    for (double v = 0; v <= chart.right.top + 0.5; v += chart.right.step) {
        out += "<text class=\"tick tick-daily\" x=\"" + coord(kRight + 6) + "\" y=\"" + coord(chart.y_daily(v) + 4) +
               "\">" + tick_label(v) + "</text>\n";
    }
    out += "<line class=\"axis\" x1=\"" + coord(kLeft) + "\" x2=\"" + coord(kRight) + "\" y1=\"" + coord(kBottom) +
           "\" y2=\"" + coord(kBottom) + "\"/>\n";
    out += "<text class=\"axis-title\" x=\"" + coord(kLeft) + "\" y=\"" + coord(12) +
           "\" text-anchor=\"middle\">cumulative</text>";
    out += "<text class=\"axis-title tick-daily\" x=\"" + coord(kRight) + "\" y=\"" + coord(12) +
           "\" text-anchor=\"middle\">per day</text>\n";
    for (int d = 0; d < chart.days; ++d) {
        const double x = (chart.x(chart.month_start + d * kDay) + chart.x(chart.month_start + (d + 1) * kDay)) / 2;
        out += "<text class=\"tick\" x=\"" + coord(x) + "\" y=\"" + coord(kBottom + 15) + "\" text-anchor=\"middle\">" +
               std::to_string(d + 1) + "</text>";
    }
    out += "\n<text class=\"axis-title\" x=\"" + coord((kLeft + kRight) / 2) + "\" y=\"" + coord(kHeight - 12) +
           "\" text-anchor=\"middle\">" + escape(month_caption(chart.month_start)) + " (UTC)</text>\n</g>\n";
    return out;
}

// bars_svg draws one bar per day of `daily` (a zero-height one on a day
// without decisions, so every day is there to hover), against the right axis.
std::string bars_svg(const ReportData& data, const Chart& chart) {
    std::string out = "<g class=\"bars\" fill=\"" + std::string(kBarColour) + "\">\n";
    for (const DailyCount& day : data.daily) {
        if (!in_month(chart, day)) continue;
        const double x0 = chart.x(day.day);
        const double x1 = chart.x(day.day + kDay);
        const double pad = (x1 - x0) * 0.15;
        const double y = chart.y_daily(static_cast<double>(day.decisions));
        const std::string date = license::iso8601(day.day).substr(0, 10);
        out += "<rect class=\"bar\" data-day=\"" + date + "\" data-decisions=\"" + std::to_string(day.decisions) +
               "\" x=\"" + coord(x0 + pad) + "\" y=\"" + coord(y) + "\" width=\"" + coord(x1 - x0 - 2 * pad) +
               "\" height=\"" + coord(kBottom - y) + "\"><title>" + date + ": " + std::to_string(day.decisions) +
               " decisions</title></rect>\n";
    }
    out += "</g>\n";
    return out;
}

// Point is a point of the cumulative line, in data units.
struct Point {
    int64_t t;
    double value;
};

// cumulative_points returns the cumulative count at the end of each day (or
// at the report's moment, for today), starting from zero at the first day's
// start.
std::vector<Point> cumulative_points(const ReportData& data, const Chart& chart) {
    std::vector<Point> points;
    double total = 0;
    for (const DailyCount& day : data.daily) {
        if (!in_month(chart, day)) continue;
        if (points.empty()) points.push_back({day.day, 0});
        total += static_cast<double>(day.decisions);
        points.push_back({std::clamp(data.generated_at, day.day, day.day + kDay), total});
    }
    return points;
}

// projection_svg draws the dashed line from the last cumulative point to the
// projected count at the month's end. A projection above the scale (see
// chart_svg) is cut where it leaves the plot and labelled there.
std::string projection_svg(const Chart& chart, const Point& last, double projected) {
    const double x0 = chart.x(last.t);
    const double y0 = chart.y(last.value);
    double x1 = kRight;
    double y1 = chart.y(projected);
    std::string label = "projected " + number(projected);
    std::string_view anchor = "end";
    double label_x = kRight;
    double label_y = y1 - 7;
    const bool off_scale = projected > chart.left.top && projected > last.value;
    if (off_scale) {
        // Where the line crosses the top: the fraction of the way at which
        // the value reaches the axis top.
        const double f = (chart.left.top - last.value) / (projected - last.value);
        x1 = x0 + (kRight - x0) * std::clamp(f, 0.0, 1.0);
        y1 = kTop;
        label += " \u2191 (off the scale)";
        label_y = kTop - 6;
        // Beside the crossing, on the side with room.
        if (x1 < (kLeft + kRight) / 2) {
            anchor = "start";
            label_x = x1 + 6;
        } else {
            label_x = x1 - 6;
        }
    }
    std::string out = "<g class=\"projection\" data-projected=\"" + number(projected) + "\"";
    if (off_scale) out += " data-off-scale=\"true\"";
    out += ">";
    out += "<line x1=\"" + coord(x0) + "\" y1=\"" + coord(y0) + "\" x2=\"" + coord(x1) + "\" y2=\"" + coord(y1) +
           "\" stroke=\"" + std::string(kProjectionColour) + "\" stroke-width=\"2\" stroke-dasharray=\"7 5\"/>";
    out += "<circle cx=\"" + coord(x1) + "\" cy=\"" + coord(y1) + "\" r=\"3.5\" fill=\"" +
           std::string(kProjectionColour) + "\"/>";
    out += "<text class=\"projection-label\" x=\"" + coord(label_x) + "\" y=\"" + coord(label_y) + "\" text-anchor=\"" +
           std::string(anchor) + "\" style=\"fill:" + std::string(kProjectionColour) + "\">" + escape(label) +
           "</text></g>\n";
    return out;
}

// chart_svg returns the inline SVG of the month: bars per day, the cumulative
// line, the projection and the threshold lines.
std::string chart_svg(const ReportData& data, double projected) {
    Chart chart;
    chart_month(data, chart);
    chart.limit = data.quota.limit;

    const std::vector<Point> points = cumulative_points(data, chart);
    const double cumulative = points.empty() ? 0 : points.back().value;
    int64_t max_daily = 0;
    for (const DailyCount& day : data.daily) {
        if (in_month(chart, day)) max_daily = std::max(max_daily, day.decisions);
    }

    // The scale holds the limit, the count and the projection. A projection
    // more than four times the rest (the first days of a month, a burst)
    // would squash the thresholds and the line into the bottom, so the scale
    // stops there and the projection leaves it (four times: on day 10 a
    // steady month projects about three times its count, and stays on it).
    const double base = std::max({data.quota.limit.value_or(0.0), cumulative, data.quota.current, 0.0});
    double top = std::max(base, projected);
    if (base > 0 && top > kMaxScale * base) top = kMaxScale * base;
    chart.left = nice_axis(top);
    // The bars use at most about half the height: they are read against their
    // own axis, and stay clear of the thresholds and the projection above.
    chart.right = nice_axis(2.0 * static_cast<double>(max_daily));

    std::string out =
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"chart\" class=\"chart\" width=\"900\" height=\"360\" "
        "viewBox=\"0 0 900 360\" role=\"img\" aria-labelledby=\"chart-title\">\n"
        "<title id=\"chart-title\">Decisions per day and cumulative decisions in " +
        escape(month_caption(chart.month_start)) + ", with the projection to the month's end</title>\n";
    out += axes_svg(chart);
    out += bars_svg(data, chart);
    out += thresholds_svg(chart);
    if (points.size() >= 2) {
        out += "<polyline class=\"cumulative\" fill=\"none\" stroke=\"" + std::string(kLineColour) +
               "\" stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"";
        for (size_t i = 0; i < points.size(); ++i) {
            if (i > 0) out += ' ';
            out += coord(chart.x(points[i].t)) + "," + coord(chart.y(points[i].value));
        }
        out += "\"/>\n";
    }
    const Point last = points.empty() ? Point{chart.month_start, 0} : points.back();
    out += projection_svg(chart, last, projected);
    if (cumulative <= 0) {
        out += "<text class=\"empty\" x=\"" + coord((kLeft + kRight) / 2) + "\" y=\"" + coord((kTop + kBottom) / 2) +
               "\" text-anchor=\"middle\">No decisions this month yet</text>\n";
    }
    out += "</svg>\n";
    return out;
}

// ---- the page ----------------------------------------------------------------

constexpr std::string_view kStyle = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1000px; padding: 24px 32px 40px; color: #1d2430; background: #fff;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dde5; padding-bottom: 4px; }
.meta { color: #4a5568; margin: 0; }
.meta strong { color: #1d2430; }
.banner { margin: 16px 0 0; padding: 10px 14px; border-radius: 6px; border-left: 5px solid; }
.banner.warning { background: #fff4e0; border-color: #b26b00; }
.banner.exceeded { background: #fde8e8; border-color: #c62828; }
dl.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 16px 0 0; }
.figure { border: 1px solid #d8dde5; border-radius: 8px; padding: 10px 14px; }
.figure dt { color: #4a5568; font-size: 13px; }
.figure dd { margin: 2px 0 0; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.figure .sub { font-size: 14px; font-weight: 400; color: #4a5568; }
.figure dd.small { font-size: 16px; padding-top: 4px; }
.status { display: inline-block; padding: 0 10px; border-radius: 999px; color: #fff; font-size: 16px; }
.status-ok { background: #1a7f37; }
.status-warning { background: #b26b00; }
.status-exceeded { background: #c62828; }
figure { margin: 0; }
svg.chart { display: block; width: 100%; max-width: 900px; height: auto; }
svg .grid { stroke: #e6e9ef; stroke-width: 1; shape-rendering: crispEdges; }
svg .axis { stroke: #8a94a6; stroke-width: 1; shape-rendering: crispEdges; }
svg text { font-size: 11px; fill: #4a5568; }
svg .tick-daily { fill: #5b7fa6; }
svg .axis-title { font-size: 12px; }
svg .threshold-label, svg .projection-label { font-size: 12px; font-weight: 600;
  paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg .empty { font-size: 14px; fill: #8a94a6; }
figcaption { margin-top: 6px; font-size: 13px; color: #4a5568; }
.key { display: inline-block; margin-right: 16px; }
.swatch { display: inline-block; width: 22px; height: 10px; margin-right: 5px; vertical-align: middle; }
.swatch.line { height: 3px; }
.swatch.dashed { height: 0; border-top: 3px dashed; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #e6e9ef; }
th { font-size: 13px; color: #4a5568; font-weight: 600; }
td.num, th.num { text-align: right; }
td.none { color: #8a94a6; font-style: italic; }
tr.high td.pct { color: #b26b00; font-weight: 600; }
tr.over td.pct { color: #c62828; font-weight: 600; }
footer { margin-top: 32px; font-size: 12px; color: #8a94a6; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  dl.figures { gap: 8px; }
  section, figure, table, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
}
)css";

// figure_html returns one key figure: a term and its value (HTML).
std::string figure_html(std::string_view term, const std::string& value_html, std::string_view dd_class = {}) {
    std::string dd = dd_class.empty() ? "<dd>" : "<dd class=\"" + std::string(dd_class) + "\">";
    return "<div class=\"figure\"><dt>" + std::string(term) + "</dt>" + dd + value_html + "</dd></div>\n";
}

// figures_html returns the banner (when there is one) and the key figures.
std::string figures_html(const ReportData& data, double projected) {
    const Snapshot& quota = data.quota;
    const std::string status(status_name(status_of(quota)));
    const std::optional<double> used = percentage_used(quota);
    const std::string current_text = number(quota.current);
    const std::string limit_text = quota.limit ? number(*quota.limit) : "unlimited";
    const std::string percent_text = used ? percent(*used) : "n/a";
    const std::string projected_text = number(projected);
    const std::string month_text = std::to_string(data.month_decisions);

    std::string out = "<section aria-label=\"Key figures\">\n";
    const std::string text = banner(quota);
    if (!text.empty()) {
        out += "<p id=\"banner\" class=\"banner " + status + "\" role=\"status\">" + escape(text) + "</p>\n";
    }
    out += "<dl id=\"figures\" class=\"figures\" data-current=\"" + current_text + "\" data-limit=\"" + limit_text +
           "\" data-percent=\"" + percent_text + "\" data-status=\"" + status + "\" data-projected=\"" +
           projected_text + "\" data-month-decisions=\"" + month_text + "\">\n";
    out += figure_html("Decisions counted this period",
                       "<span id=\"current\">" + current_text +
                           "</span> <span class=\"sub\">of</span> <span id=\"limit\">" + limit_text + "</span>");
    out += figure_html("Quota used", "<span id=\"percent\">" + percent_text + "</span>" + (used ? " %" : ""));
    out += figure_html("Status", "<span id=\"status\" class=\"status status-" + status + "\">" + status + "</span>");
    out += figure_html("Decisions this month", "<span id=\"month-decisions\">" + month_text + "</span>");
    std::string projection = "<span id=\"projected\">" + projected_text + "</span>";
    if (quota.limit && *quota.limit > 0) {
        projection += " <span class=\"sub\">(<span id=\"projected-percent\">" +
                      percent(of_limit(projected, *quota.limit)) + "</span> % of the limit)</span>";
    }
    out += figure_html("Projected at the month's end", projection);
    out += figure_html("Resets",
                       "<time datetime=\"" + license::iso8601(quota.period.end) + "\">" +
                           license::iso8601(quota.period.end) + "</time>",
                       "small");
    out += "</dl>\n</section>\n";
    return out;
}

// legend_html explains the chart's marks, in the chart's colours.
std::string legend_html(bool with_limit) {
    auto key = [](std::string_view swatch_class, std::string_view colour, std::string_view text) {
        return "<span class=\"key\"><span class=\"swatch " + std::string(swatch_class) +
               "\" style=\"background:" + std::string(colour) + ";border-color:" + std::string(colour) + "\"></span>" +
               std::string(text) + "</span>";
    };
    std::string out = "<figcaption>";
    out += key("", kBarColour, "decisions per day (right axis)");
    out += key("line", kLineColour, "cumulative this month (left axis)");
    out += key("dashed", kProjectionColour, "projection to the month's end");
    if (with_limit) {
        out += key("dashed", kWarningColour, "90 %");
        out += key("dashed", kNotifyColour, "95 %");
        out += key("line", kLimitColour, "100 % (limit)");
    }
    out += "</figcaption>\n";
    return out;
}

// flows_html returns the table of decisions per flow this month.
std::string flows_html(const ReportData& data) {
    std::string out =
        "<section>\n<h2>Decisions by flow</h2>\n<table id=\"flows\">\n<thead><tr><th>Flow</th>"
        "<th class=\"num\">Decisions</th><th class=\"num\">Share of the month</th></tr></thead>\n<tbody>\n";
    if (data.flows.empty()) out += "<tr><td class=\"none\" colspan=\"3\">No decisions this month.</td></tr>\n";
    for (const FlowCount& flow : data.flows) {
        const double pct = share(static_cast<double>(flow.decisions), static_cast<double>(data.month_decisions));
        out += "<tr><td>" + escape(flow.flow) + "</td><td class=\"num\">" + std::to_string(flow.decisions) +
               "</td><td class=\"num\">" + percent(pct) + " %</td></tr>\n";
    }
    out += "</tbody>\n</table>\n</section>\n";
    return out;
}

// features_html returns the table of the tier's numeric features.
std::string features_html(const ReportData& data) {
    std::string out =
        "<section>\n<h2>Features</h2>\n<table id=\"features\">\n<thead><tr><th>Feature</th><th>Unit</th>"
        "<th>Period</th><th class=\"num\">Usage</th><th class=\"num\">Limit</th><th class=\"num\">Used</th>"
        "</tr></thead>\n<tbody>\n";
    if (data.features.empty()) out += "<tr><td class=\"none\" colspan=\"6\">No numeric features.</td></tr>\n";
    for (const FeatureUsage& feature : data.features) {
        std::string row_class;
        std::string limit_cells;
        if (!feature.enabled) {
            limit_cells = "<td class=\"num none\" colspan=\"2\">not in plan</td>";
        } else if (!feature.limit) {
            limit_cells = "<td class=\"num\">unlimited</td><td class=\"num pct\">\u2014</td>";
        } else {
            std::string pct = "\u2014";  // a zero limit has no percentage (report_json: null)
            if (*feature.limit > 0) {
                const double used = of_limit(feature.usage, *feature.limit);
                pct = percent(used) + " %";
                if (used >= kExceededPercent) {
                    row_class = "over";
                } else if (used >= kWarningPercent) {
                    row_class = "high";
                }
            }
            limit_cells = "<td class=\"num\">" + number(*feature.limit) + "</td><td class=\"num pct\">" + pct + "</td>";
        }
        out += "<tr" + (row_class.empty() ? std::string() : " class=\"" + row_class + "\"") + "><td>" +
               escape(feature.feature) + "</td><td>" + escape(feature.unit) + "</td><td>" + escape(feature.period) +
               "</td><td class=\"num\">" + number(feature.usage) + "</td>" + limit_cells + "</tr>\n";
    }
    out += "</tbody>\n</table>\n</section>\n";
    return out;
}

}  // namespace

std::string report_html(const ReportData& data) {
    const double projected = projected_usage(data.quota, data.generated_at);
    const std::string title = "Decision usage \u2014 " + escape(data.tenant_name) + " (" + escape(data.tenant_id) + ")";
    const std::string generated = license::iso8601(data.generated_at);
    const std::string period_start = license::iso8601(data.quota.period.start);
    const std::string period_end = license::iso8601(data.quota.period.end - 1);  // the last second, as usage_json

    std::string out;
    out.reserve(24 * 1024);
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += "<title>" + title + "</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
    out += "<header>\n<h1>Decision usage \u2014 <span id=\"tenant-name\">" + escape(data.tenant_name) +
           "</span> (<span id=\"tenant-id\">" + escape(data.tenant_id) + "</span>)</h1>\n";
    out += "<p class=\"meta\">Tier <strong id=\"tier\">" + std::string(license::tier_name(data.quota.tier)) +
           "</strong> \u00b7 generated <time id=\"generated-at\" datetime=\"" + generated + "\">" + generated +
           "</time> \u00b7 period <time id=\"period-start\" datetime=\"" + period_start + "\">" + period_start +
           "</time> to <time id=\"period-end\" datetime=\"" + period_end + "\">" + period_end + "</time></p>\n";
    out += "</header>\n<main>\n";
    out += figures_html(data, projected);
    out += "<section>\n<h2>Daily trend</h2>\n<figure>\n";
    out += chart_svg(data, projected);
    out += legend_html(data.quota.limit.has_value());
    out += "</figure>\n</section>\n";
    out += flows_html(data);
    out += features_html(data);
    out += "</main>\n<footer>kaireon usage report for " + escape(data.tenant_id) + ", generated " + generated +
           ".</footer>\n</body>\n</html>\n";
    return out;
}

}  // namespace kaireon::quota
