#include "core/contact_policies.h"

#include "core/caps.h"
#include "core/name_table.h"
#include "core/period.h"
#include "core/sha256.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace kaireon::policies {
namespace {

constexpr int64_t kDay = 86400;
constexpr std::string_view kWeekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// number_text writes a count or a threshold as people read it: 3, 2.5,
// 0.125, 1e+20 (15 significant digits: never rounded to another threshold,
// never cut).
std::string number_text(double value) {
    if (std::nearbyint(value) == value && std::fabs(value) < 1e18)
        return std::to_string(static_cast<int64_t>(value));
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.15g", value);
    return buffer;
}

std::string scope_text(const catalog::CompiledPolicy& policy) {
    return policy.scope == "global" ? std::string("global") : policy.scope + ":" + policy.scope_id;
}

// ago says how long ago an instant was: 12m, 5h, 2d.
std::string ago(int64_t seconds) {
    seconds = std::max<int64_t>(seconds, 0);
    if (seconds < 3600) return std::to_string(seconds / 60) + "m";
    if (seconds < kDay) return std::to_string(seconds / 3600) + "h";
    return std::to_string(seconds / kDay) + "d";
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
    return out;
}

bool contains(const std::vector<std::string>& items, std::string_view item) {
    return std::find(items.begin(), items.end(), item) != items.end();
}

std::optional<int64_t> count_of(const Json& config, const char* key) {
    auto it = config.find(key);
    if (it == config.end() || !it->is_number()) return std::nullopt;
    return it->get<int64_t>();
}

double number_of(const Json& config, const char* key, double fallback) {
    auto it = config.find(key);
    return it != config.end() && it->is_number() ? it->get<double>() : fallback;
}

// days_text writes allowed weekdays with runs of three or more collapsed:
// mon-fri, sat,sun, mon-wed,fri.
std::string days_text(const std::vector<int>& days) {
    std::string out;
    for (size_t i = 0; i < days.size();) {
        size_t j = i;
        while (j + 1 < days.size() && days[j + 1] == days[j] + 1) ++j;
        if (!out.empty()) out += ",";
        out += kWeekdays[days[i] - 1];
        if (j - i >= 2) {
            out += "-";
            out += kWeekdays[days[j] - 1];
        } else if (j > i) {
            for (size_t k = i + 1; k <= j; ++k) {
                out += ",";
                out += kWeekdays[days[k] - 1];
            }
        }
        i = j + 1;
    }
    return out;
}

std::string two_digits(int value) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%02d", value);
    return buffer;
}

// The windows of the counting policies: (config key, local period, label).
struct Window {
    const char* key;
    CalendarPeriod period;
    const char* label;
};
constexpr Window kDayWeekMonth[] = {{"maxPerDay", CalendarPeriod::Day, "day"},
                                    {"maxPerWeek", CalendarPeriod::Week, "week"},
                                    {"maxPerMonth", CalendarPeriod::Month, "month"}};

int64_t local_start(const LocalTime& local, CalendarPeriod period) {
    switch (period) {
        case CalendarPeriod::Day: return local.day_start;
        case CalendarPeriod::Week: return local.week_start;
        default: return local.month_start;
    }
}

bool impression(const Bucket& bucket) { return bucket.kind == "impression"; }

// cooldown_start is the first second of a cooldown's window: an impression
// at or after it is more recent than `hours`. cooldownHours has no maximum:
// the window is cut at 1e11 seconds (about 3,000 years), which keeps the
// arithmetic exact and the instant one PostgreSQL can represent.
int64_t cooldown_start(int64_t now, double hours) {
    const double seconds = std::min(std::round(hours * 3600), 1e11);
    return now - static_cast<int64_t>(seconds) + 1;
}

}  // namespace

LocalTime utc_time(int64_t now) {
    LocalTime t;
    const int64_t days = now >= 0 ? now / kDay : (now - kDay + 1) / kDay;
    t.weekday = static_cast<int>(((days % 7) + 7 + 3) % 7) + 1;  // 1970-01-01 was a Thursday
    const int64_t second_of_day = now - days * kDay;
    t.hour = static_cast<int>(second_of_day / 3600);
    t.minute = static_cast<int>(second_of_day % 3600 / 60);
    t.day_start = period_start(CalendarPeriod::Day, now);
    t.week_start = period_start(CalendarPeriod::Week, now);
    t.month_start = period_start(CalendarPeriod::Month, now);
    return t;
}

Needs needs(const catalog::CompiledCatalog& catalog, const std::string& zone, int64_t now, const LocalClock& clock) {
    Needs out;
    std::optional<LocalTime> local;
    auto local_time = [&]() -> const LocalTime& {
        if (!local) local = clock(zone, now);
        return *local;
    };
    bool all_time = false;
    auto add = [&](int64_t boundary) { out.boundaries.push_back(boundary); };
    auto add_outcomes = [&](const std::vector<std::string>& outcomes) {
        for (const auto& outcome : outcomes)
            if (!contains(out.outcomes, outcome)) out.outcomes.push_back(outcome);
    };
    for (const catalog::CompiledPolicy& policy : catalog.policies) {
        const Json& config = policy.config;
        const std::string& type = policy.type;
        if (type == "frequency_cap" || type == "customer_total_cap" || type == "cross_channel_cap") {
            for (const Window& window : kDayWeekMonth)
                if (count_of(config, window.key)) add(local_start(local_time(), window.period));
            if (type == "frequency_cap" && count_of(config, "maxTotal")) all_time = true;
        } else if (type == "cooldown") {
            add(cooldown_start(now, number_of(config, "cooldownHours", 0)));
        } else if (type == "outcome_based") {
            add(now - static_cast<int64_t>(number_of(config, "lookbackDays", 1)) * kDay);
            add_outcomes(string_items(config, "outcomeTypes"));
        } else if (type == "mutual_exclusion") {
            const int64_t days = count_of(config, "withinDays").value_or(0);
            if (days > 0) add(now - days * kDay);
        }
    }
    if (catalog.uses_metrics) {
        for (const catalog::CompiledMetric& metric : catalog.metrics) {
            add(now - static_cast<int64_t>(metric.window_days) * kDay);
            add_outcomes(metric.outcome_types);
        }
    }
    std::sort(out.boundaries.begin(), out.boundaries.end());
    out.boundaries.erase(std::unique(out.boundaries.begin(), out.boundaries.end()), out.boundaries.end());
    out.history = all_time || !out.boundaries.empty();
    if (!all_time && !out.boundaries.empty()) out.since = out.boundaries.front();
    return out;
}

int bucket_of(const std::vector<int64_t>& boundaries, int64_t at) {
    return static_cast<int>(std::upper_bound(boundaries.begin(), boundaries.end(), at) - boundaries.begin());
}

History::History(std::vector<int64_t> boundaries, std::vector<Bucket> buckets)
    : boundaries_(std::move(boundaries)), buckets_(std::move(buckets)) {}

History::Totals History::totals(const std::function<bool(const Bucket&)>& match, std::optional<int64_t> since) const {
    int first_bucket = 0;
    if (since) {
        auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), *since);
        if (it == boundaries_.end() || *it != *since) throw std::logic_error("history: a window starts at no boundary");
        first_bucket = static_cast<int>(it - boundaries_.begin()) + 1;
    }
    Totals out;
    for (const Bucket& bucket : buckets_) {
        if (bucket.bucket < first_bucket || !match(bucket)) continue;
        // Saturating: a hostile summary cannot wrap a count below a maximum.
        if (__builtin_add_overflow(out.count, bucket.count, &out.count))
            out.count = bucket.count > 0 ? INT64_MAX : INT64_MIN;
        out.value += bucket.value;
        if (!out.last_at || bucket.last_at > *out.last_at) out.last_at = bucket.last_at;
    }
    return out;
}

std::map<std::string, double, std::less<>> metric_values(const catalog::CompiledCatalog& catalog,
                                                         const History& history, int64_t now) {
    std::map<std::string, double, std::less<>> out;
    for (const catalog::CompiledMetric& metric : catalog.metrics) {
        auto totals = history.totals(
            [&](const Bucket& b) {
                if (!contains(metric.outcome_types, b.outcome)) return false;
                if (metric.scope == "offer") return b.offer_id == metric.scope_id;
                if (metric.scope == "category") return catalog::in_category(catalog, b.category_id, metric.scope_id);
                if (metric.scope == "channel") return b.channel == metric.scope_id;
                return true;
            },
            now - static_cast<int64_t>(metric.window_days) * kDay);
        out[metric.id] = metric.sum ? totals.value : static_cast<double>(totals.count);
    }
    return out;
}

Gate::Gate(const catalog::CompiledCatalog& catalog, const History& history, BudgetSpent budgets, const Json& context,
           int64_t now, const LocalClock& clock)
    : catalog_(catalog), history_(history), budgets_(std::move(budgets)), context_(context), now_(now), clock_(clock) {
    static constexpr NameTable<Type, 12> kTypes{{
        {"frequency_cap", Type::FrequencyCap},
        {"customer_total_cap", Type::CustomerTotalCap},
        {"cross_channel_cap", Type::CrossChannelCap},
        {"cooldown", Type::Cooldown},
        {"budget_exhausted", Type::BudgetExhausted},
        {"outcome_based", Type::OutcomeBased},
        {"segment_exclusion", Type::SegmentExclusion},
        {"time_window", Type::TimeWindow},
        {"mutual_exclusion", Type::MutualExclusion},
        {"category_suppression", Type::CategorySuppression},
        {"metric_condition", Type::MetricCondition},
        {"allow_override", Type::AllowOverride},
    }};
    static constexpr NameTable<Scope, 8> kScopes{{
        {"global", Scope::Global},       {"category", Scope::Category}, {"subcategory", Scope::Subcategory},
        {"offer", Scope::Offer},         {"creative", Scope::Creative}, {"channel", Scope::Channel},
        {"placement", Scope::Placement}, {"segment", Scope::Segment},
    }};
    states_.reserve(catalog.policies.size());
    for (const catalog::CompiledPolicy& policy : catalog.policies) {
        PolicyState state;
        state.type = from_name(kTypes, policy.type).value_or(Type::Unknown);
        state.scope = from_name(kScopes, policy.scope).value_or(Scope::Unknown);
        switch (state.type) {
            case Type::FrequencyCap:
            case Type::CustomerTotalCap:
            case Type::CrossChannelCap:
            case Type::Cooldown:
            case Type::OutcomeBased:
            case Type::SegmentExclusion:
            case Type::TimeWindow:
            case Type::MetricCondition: state.shared = true; break;
            default: break;
        }
        if (state.type == Type::MutualExclusion) state.within_days = count_of(policy.config, "withinDays").value_or(0);
        if (state.type == Type::AllowOverride)
            overridden_.insert(overridden_.end(), policy.offer_ids.begin(), policy.offer_ids.end());
        states_.push_back(std::move(state));
    }
}

catalog::SubjectValues& Gate::subject(const decision::CustomerView& customer) const {
    if (!subject_ || &subject_->customer() != &customer.customer)
        subject_.emplace(catalog_.path_table, customer.customer, context_);
    return *subject_;
}

Gate::PolicyState& Gate::state_of(const catalog::CompiledPolicy& policy) const {
    return states_[static_cast<size_t>(&policy - catalog_.policies.data())];
}

bool Gate::applies(const catalog::CompiledPolicy& policy, const catalog::CompiledOffer& offer,
                   const catalog::CompiledCreative& creative, const decision::CustomerView& customer) const {
    switch (state_of(policy).scope) {
        case Scope::Global: return true;
        case Scope::Category: return catalog::in_category(catalog_, offer.category_id, policy.scope_id);
        case Scope::Subcategory: return offer.category_id == policy.scope_id;
        case Scope::Offer: return offer.id == policy.scope_id;
        case Scope::Creative: return creative.id == policy.scope_id;
        case Scope::Channel: return creative.channel_id == policy.scope_id;
        case Scope::Placement: return creative.placement_id == policy.scope_id;
        case Scope::Segment: return contains(customer.customer.segments, policy.scope_id);
        case Scope::Unknown: return false;
    }
    return false;
}

bool Gate::at_scope(const catalog::CompiledPolicy& policy, const Bucket& bucket) const {
    switch (state_of(policy).scope) {
        case Scope::Category: return catalog::in_category(catalog_, bucket.category_id, policy.scope_id);
        case Scope::Subcategory: return bucket.category_id == policy.scope_id;
        case Scope::Offer: return bucket.offer_id == policy.scope_id;
        case Scope::Creative: return bucket.creative_id == policy.scope_id;
        case Scope::Channel: return bucket.channel == policy.scope_id;
        case Scope::Placement: return bucket.placement == policy.scope_id;
        default: return true;  // global; segment: the customer's impressions everywhere
    }
}

// member: the offer is one of a mutual_exclusion's offerIds or in one of
// its categoryIds.
bool Gate::member(const catalog::CompiledPolicy& policy, std::string_view offer_id) const {
    if (contains(policy.offer_ids, offer_id)) return true;
    if (policy.category_ids.empty()) return false;
    const catalog::CompiledOffer* offer = catalog_.offer(offer_id);
    std::string_view category = offer != nullptr ? std::string_view(offer->category_id) : std::string_view();
    for (const auto& id : policy.category_ids)
        if (catalog::in_category(catalog_, category, id)) return true;
    return false;
}

std::optional<std::string> Gate::lift(const catalog::CompiledPolicy& policy, const catalog::CompiledOffer& offer) const {
    if (!policy.bypassable) return std::nullopt;
    if (contains(overridden_, offer.id)) return "allow_override: " + offer.id;
    const Type type = state_of(policy).type;
    if (offer.mandatory && type != Type::FrequencyCap && type != Type::CrossChannelCap) return "mandatory offer";
    return std::nullopt;
}

std::optional<std::string> Gate::blocks(const catalog::CompiledPolicy& policy, const catalog::CompiledOffer& offer,
                                        const catalog::CompiledCreative& creative,
                                        const decision::CustomerView& customer) const {
    PolicyState& state = state_of(policy);
    if (!state.shared) return evaluate(policy, offer, creative, customer);
    if (state.type == Type::CrossChannelCap && !contains(policy.channels, creative.channel_id)) return std::nullopt;
    if (verdicts_for_ != &customer) {  // the memo holds one customer's verdicts
        for (PolicyState& s : states_) s.verdict.reset();
        verdicts_for_ = &customer;
    }
    if (!state.verdict) state.verdict = evaluate(policy, offer, creative, customer);
    return *state.verdict;
}

std::optional<std::string> Gate::evaluate(const catalog::CompiledPolicy& policy, const catalog::CompiledOffer& offer,
                                          const catalog::CompiledCreative& creative,
                                          const decision::CustomerView& customer) const {
    const Json& config = policy.config;
    const Type type = state_of(policy).type;
    auto impressions_since = [&](auto&& match, std::optional<int64_t> since) {
        return history_.totals([&](const Bucket& b) { return impression(b) && match(b); }, since).count;
    };
    if (type == Type::FrequencyCap || type == Type::CustomerTotalCap || type == Type::CrossChannelCap) {
        const std::vector<std::string>& channels = policy.channels;
        if (type == Type::CrossChannelCap && !contains(channels, creative.channel_id)) return std::nullopt;
        auto match = [&](const Bucket& b) {
            if (type == Type::CustomerTotalCap) return true;
            if (type == Type::CrossChannelCap) return contains(channels, b.channel);
            return at_scope(policy, b);
        };
        std::optional<LocalTime> local;
        for (const Window& window : kDayWeekMonth) {
            auto max = count_of(config, window.key);
            if (!max) continue;
            if (!local) local = clock_(customer.timezone, now_);
            if (impressions_since(match, local_start(*local, window.period)) < *max) continue;
            std::string amount = std::to_string(*max) + "/" + window.label;
            if (type == Type::FrequencyCap) return "frequency_cap exceeded: " + amount + " at scope=" + scope_text(policy);
            if (type == Type::CrossChannelCap) return "cross_channel_cap: " + amount + " across " + joined(channels);
            return "customer_total_cap: " + amount;
        }
        if (auto max = count_of(config, "maxTotal"); type == Type::FrequencyCap && max &&
                                                    impressions_since(match, std::nullopt) >= *max)
            return "frequency_cap exceeded: " + std::to_string(*max) + " in total at scope=" + scope_text(policy);
        return std::nullopt;
    }
    if (type == Type::Cooldown) {
        const double hours = number_of(config, "cooldownHours", 0);
        auto totals = history_.totals([&](const Bucket& b) { return impression(b) && at_scope(policy, b); },
                                      cooldown_start(now_, hours));
        if (totals.count == 0) return std::nullopt;
        return "cooldown: last impression " + ago(now_ - *totals.last_at) + " ago < " + number_text(hours) +
               "h at scope=" + scope_text(policy);
    }
    if (type == Type::BudgetExhausted) {
        if (!offer.budget) return std::nullopt;
        auto spent = budgets_.find(offer.id);
        const double amount = spent == budgets_.end() ? 0 : spent->second;
        if (amount < offer.budget->limit) return std::nullopt;
        return "budget_exhausted: " + number_text(amount) + "/" + number_text(offer.budget->limit) + " " +
               offer.budget->metric + " for offer=" + offer.id;
    }
    if (type == Type::OutcomeBased) {
        const std::vector<std::string> outcomes = string_items(config, "outcomeTypes");
        const int64_t days = count_of(config, "lookbackDays").value_or(1);
        const int64_t count =
            history_.totals([&](const Bucket& b) { return contains(outcomes, b.outcome) && at_scope(policy, b); },
                            now_ - days * kDay)
                .count;
        if (count < count_of(config, "maxCount").value_or(1)) return std::nullopt;
        return "outcome_based: " + std::to_string(count) + " " + joined(outcomes) + " in " + std::to_string(days) +
               "d at scope=" + scope_text(policy);
    }
    if (type == Type::SegmentExclusion) {
        for (const auto& segment : string_items(config, "segments"))
            if (contains(customer.customer.segments, segment)) return "segment_exclusion: segment=" + segment;
        return std::nullopt;
    }
    if (type == Type::TimeWindow) {
        std::string zone = config.value("timezone", customer.timezone);
        if (zone.empty()) zone = "UTC";
        const LocalTime local = clock_(zone, now_);
        std::vector<int> days;
        for (const auto& day : string_items(config, "allowedDays"))
            days.push_back(static_cast<int>(std::find(std::begin(kWeekdays), std::end(kWeekdays), day) -
                                            std::begin(kWeekdays)) + 1);
        std::sort(days.begin(), days.end());
        days.erase(std::unique(days.begin(), days.end()), days.end());
        const auto start = count_of(config, "startHour"), end = count_of(config, "endHour");
        const bool day_ok = days.empty() || std::find(days.begin(), days.end(), local.weekday) != days.end();
        const bool hour_ok = !start || (local.hour >= *start && local.hour < *end);
        if (day_ok && hour_ok) return std::nullopt;
        std::string window;
        if (!days.empty()) window = days_text(days);
        if (start) window += (window.empty() ? "" : " ") + two_digits(static_cast<int>(*start)) + "-" +
                             two_digits(static_cast<int>(*end));
        return "time_window: " + std::string(kWeekdays[local.weekday - 1]) + " " + two_digits(local.hour) + ":" +
               two_digits(local.minute) + " outside " + window + " (" + zone + ")";
    }
    if (type == Type::MutualExclusion) {
        const int64_t days = state_of(policy).within_days;
        if (days == 0 || !member(policy, offer.id)) return std::nullopt;
        // The latest impression of another member in the window names it.
        std::optional<std::pair<int64_t, std::string>> latest;
        history_.totals(
            [&](const Bucket& b) {
                if (impression(b) && b.offer_id != offer.id && member(policy, b.offer_id) &&
                    (!latest || b.last_at > latest->first))
                    latest.emplace(b.last_at, b.offer_id);
                return false;
            },
            now_ - days * kDay);
        if (!latest) return std::nullopt;
        return "mutual_exclusion: " + latest->second + " shown " + ago(now_ - latest->first) + " ago";
    }
    if (type == Type::CategorySuppression) {
        for (const auto& category : policy.category_ids) {
            if (!catalog::in_category(catalog_, offer.category_id, category)) continue;
            if (!policy.condition || !catalog::holds(*policy.condition, customer.customer, &offer, context_,
                                                     static_cast<double>(now_), &subject(customer)))
                return std::nullopt;
            return "category_suppression: " + category + " while " + config.value("condition", std::string());
        }
        return std::nullopt;
    }
    if (type == Type::MetricCondition) {
        const std::string metric = config.value("metric", std::string());
        auto it = customer.customer.metrics.find(metric);
        if (it == customer.customer.metrics.end()) return std::nullopt;  // a metric the catalog no longer has
        const double value = number_of(config, "value", 0), actual = it->second;
        const std::string op = config.value("op", std::string("="));
        const bool holds = op == "=" ? actual == value
                         : op == "!=" ? actual != value
                         : op == "<"  ? actual < value
                         : op == "<=" ? actual <= value
                         : op == ">"  ? actual > value
                                      : actual >= value;
        if (!holds) return std::nullopt;
        return "metric_condition: " + metric + " " + op + " " + number_text(value);
    }
    return std::nullopt;  // allow_override never blocks
}

decision::GateVerdict Gate::judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                                  const decision::CustomerView& customer) const {
    decision::GateVerdict verdict;
    for (const catalog::CompiledPolicy& policy : catalog_.policies) {
        const PolicyState& state = state_of(policy);
        if (state.type == Type::AllowOverride) continue;
        // A policy whose verdict is the customer's, already found not to
        // block: whether it applies to this candidate changes nothing.
        if (state.shared && verdicts_for_ == &customer && state.verdict && !*state.verdict) continue;
        if (!applies(policy, offer, creative, customer)) continue;
        auto reason = blocks(policy, offer, creative, customer);
        if (!reason) continue;
        if (auto lifted = lift(policy, offer)) {
            verdict.lifted.push_back(*lifted + " (lifts " + *reason + ")");
            continue;
        }
        verdict.blocked = std::move(reason);
        return verdict;
    }
    return verdict;
}

std::vector<decision::RivalGroup> Gate::rival_groups(const catalog::CompiledOffer& offer,
                                                     const catalog::CompiledCreative& creative,
                                                     const decision::CustomerView& customer) const {
    std::vector<decision::RivalGroup> out;
    for (const catalog::CompiledPolicy& policy : catalog_.policies) {
        if (state_of(policy).type != Type::MutualExclusion || !member(policy, offer.id)) continue;
        // The scope names where the exclusion holds: an offer shown outside
        // it (another channel, placement, creative) neither yields nor keeps
        // others out.
        if (!applies(policy, offer, creative, customer)) continue;
        out.push_back({"mutual_exclusion:" + policy.id, !lift(policy, offer).has_value()});
    }
    return out;
}

int64_t budget_period_start(const catalog::CompiledBudget& budget, int64_t now) {
    auto period = cadence_period(budget.period);
    return period ? period_start(*period, now) : 0;  // total: since ever
}

int64_t budget_period_end(const catalog::CompiledBudget& budget, int64_t now) {
    auto period = cadence_period(budget.period);
    return period ? period_end(*period, now) : INT64_MAX;  // total: never ends
}

std::string budget_counter(const std::string& offer_id, const catalog::CompiledBudget& budget) {
    return joined_name("budget:", {offer_id, budget.metric, budget.period});
}

std::optional<int64_t> oldest_counted(const catalog::CompiledCatalog& catalog, int64_t now) {
    for (const auto& [id, experiment] : catalog.experiments)
        if (experiment.status == "active") return std::nullopt;
    int64_t oldest = now;
    const Needs history = needs(catalog, "UTC", now, [](const std::string&, int64_t at) { return utc_time(at); });
    if (history.history && !history.since) return std::nullopt;
    if (history.since) oldest = std::min(oldest, *history.since - kDay);
    for (const catalog::CompiledCap& cap : catalog.caps) oldest = std::min(oldest, caps::period_start(cap, now));
    if (budgeted(catalog)) {
        for (const catalog::CompiledOffer& offer : catalog.offers) {
            if (!offer.budget) continue;
            if (!cadence_period(offer.budget->period)) return std::nullopt;  // "total"
            oldest = std::min(oldest, budget_period_start(*offer.budget, now));
        }
    }
    return oldest;
}

bool budgeted(const catalog::CompiledCatalog& catalog) {
    return std::any_of(catalog.policies.begin(), catalog.policies.end(),
                       [](const catalog::CompiledPolicy& p) { return p.type == "budget_exhausted"; });
}

}  // namespace kaireon::policies
