#!/usr/bin/env bash
# The usage report (kaireon.usage_report_html(), SPEC section 5) renders in a
# real browser and says what usage_summary() says. On a throw-away cluster, a
# tenant named "Acme <Bank>" with a decision quota lowered to 100 (an
# override) makes 92 decisions through two flows on days 1 to 10 of March
# 2026 (kaireon.test_clock). With the clock on the 10th, the page and the
# summary are read in one session; then:
#   - the summary holds what was decided (count, limit, percentage, month,
#     projection, ten days, two flows);
#   - headless Chromium takes a screenshot (1200 x 1600) and dumps the DOM it
#     parsed; a checker (/usr/bin/python3, standard library only: it decodes
#     the PNG itself) requires a picture that is not blank: enough non-white
#     pixels and colours, and in the chart a bar per day and the cumulative,
#     projection and 90/95/100 % lines in the page's own colours;
#   - the DOM's figures (ids current, limit, percent, projected,
#     month-decisions) read exactly the summary's numbers, the SVG has a bar
#     per day of the summary, the tenant's name is escaped, and there is no
#     script.
#
#   test/cluster/usage_report.sh               the whole test (as root, with kaireon installed)
#   test/cluster/usage_report.sh --render DIR  only render and check DIR/report.html against
#                                              DIR/summary.json (no cluster; for the checker itself)
# KR_CHROMIUM overrides the browser (default /usr/bin/chromium, Debian package chromium);
# KR_REPORT_OUT=DIR copies the page, summary, screenshot and DOM there, to look at.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/cluster.sh
source "$here/scripts/lib/cluster.sh"

chromium=${KR_CHROMIUM:-/usr/bin/chromium}
python=/usr/bin/python3
db=kr_usage_report
# Decisions per day, 1 to 10 March (92 in all: 92 % of the limit of 100, a
# warning with its banner, and no refusal).
per_day=(6 8 11 7 9 12 10 8 11 10)
report_at=2026-03-10T15:00:00Z

render_only=""
if [ "${1:-}" = "--render" ]; then
    render_only=${2:?usage: $0 --render DIR}
fi

work=$(mktemp -d /tmp/kr-usage-report.XXXXXX)
chmod 755 "$work"
cleanup() {
    local status=$?
    [ -n "$render_only" ] || kr_cluster_stop
    if [ -n "${KR_REPORT_OUT:-}" ]; then
        mkdir -p "$KR_REPORT_OUT"
        cp "$work"/*.html "$work"/*.json "$work"/*.png "$KR_REPORT_OUT/" 2>/dev/null || true
    fi
    if [ $status -eq 0 ]; then
        rm -rf "$work"
    else
        echo "usage_report: the page, summary, screenshot and logs are kept in $work" >&2
    fi
}
trap cleanup EXIT

if [ ! -x "$chromium" ]; then
    echo "usage_report: no browser at $chromium (apt-get install chromium)" >&2
    exit 1
fi

if [ -n "$render_only" ]; then
    cp "$render_only/report.html" "$render_only/summary.json" "$work/"
else
    kr_cluster_start >/dev/null
    createdb "$db"
    psql -qX -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION kaireon;
SELECT kaireon.create_tenant('acme', 'Acme <Bank>', 'ops@acme.test');
SET kaireon.test_clock = '2026-03-01T08:00:00Z';
SET kaireon.tenant = 'acme';
-- Two web flows offering a card and a loan to three customers: every
-- decision has offers, so every one counts.
SELECT kaireon.apply_catalog('{
  "channels": [{"id": "web", "type": "web"}],
  "offers": [{"id": "card", "priority": 60}, {"id": "loan", "priority": 40}],
  "creatives": [{"id": "card-web", "offerId": "card", "channelId": "web"},
                {"id": "loan-web", "offerId": "loan", "channelId": "web"}],
  "customers": [{"id": "ana"}, {"id": "ben"}, {"id": "cal"}],
  "flows": [{"id": "home", "channelId": "web"}, {"id": "banner", "channelId": "web"}]
}');
SELECT kaireon.set_override('decisions_per_month', '{"limit": 100}');
SQL
    # Each day's decisions in one statement at that day's clock, for ana,
    # ben and cal in turn; one in three through "banner", the rest "home".
    {
        echo "SET kaireon.tenant = 'acme';"
        for i in "${!per_day[@]}"; do
            printf "SET kaireon.test_clock = '2026-03-%02dT09:%02d:00Z';\n" $((i + 1)) $((i * 3))
            printf "SELECT count(kaireon_recommend(jsonb_build_object('customerId', (ARRAY['ana', 'ben', 'cal'])[1 + n %% 3], 'flow', CASE WHEN n %% 3 = 0 THEN 'banner' ELSE 'home' END))) FROM generate_series(1, %d) n;\n" "${per_day[$i]}"
        done
    } >"$work/decide.sql"
    psql -qX -v ON_ERROR_STOP=1 -d "$db" -f "$work/decide.sql" >/dev/null
    # The page and the summary at the same instant, in one session.
    session=(-qAtX -v ON_ERROR_STOP=1 -d "$db" -c "SET kaireon.test_clock = '$report_at'" -c "SET kaireon.tenant = 'acme'")
    psql "${session[@]}" -c "SELECT kaireon.usage_report_html()" >"$work/report.html"
    psql "${session[@]}" -c "SELECT kaireon.usage_summary()" >"$work/summary.json"
fi

# Chromium as root needs --no-sandbox; its profile and HOME are throw-away.
mkdir -p "$work/home"
browse() {
    HOME="$work/home" timeout 120 "$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
        --disable-dev-shm-usage --no-first-run --disable-extensions --disable-background-networking \
        --user-data-dir="$work/home/profile" "$@"
}
if ! browse --window-size=1200,1600 --screenshot="$work/report.png" "file://$work/report.html" \
    >"$work/chromium-screenshot.log" 2>&1 || [ ! -s "$work/report.png" ]; then
    tail -n 20 "$work/chromium-screenshot.log" >&2
    echo "usage_report: Chromium took no screenshot (log above)" >&2
    exit 1
fi
if ! browse --dump-dom "file://$work/report.html" >"$work/dom.html" 2>"$work/chromium-dom.log" ||
    [ ! -s "$work/dom.html" ]; then
    tail -n 20 "$work/chromium-dom.log" >&2
    echo "usage_report: Chromium dumped no DOM (log above)" >&2
    exit 1
fi

scenario=1
[ -z "$render_only" ] || scenario=0
KR_PER_DAY="${per_day[*]}" KR_REPORT_AT="$report_at" KR_SCENARIO=$scenario "$python" - "$work" <<'PY'
"""Checks the screenshot, the DOM and the summary of the usage report."""
import json
import os
import re
import struct
import sys
import zlib

work = sys.argv[1]
failures = []


def fail(message):
    failures.append(message)
    print("usage_report: FAIL: " + message)


def ok(message):
    print("usage_report: ok: " + message)


# ---- PNG, decoded by hand (8-bit RGB or RGBA, not interlaced) ----------------

def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    """Returns (width, height, rows of RGB bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{len(raw)} bytes of image data for {width} x {height}")
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 0:
            pass
        elif kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upper_left = previous[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + paeth(left, previous[i], upper_left)) & 0xFF
        else:
            raise ValueError(f"row {y}: unknown filter type {kind}")
        previous = line
        if bpp == 4:  # composite over white: the page is opaque, but be safe
            rgb = bytearray(width * 3)
            for x in range(width):
                r, g, b, a = line[4 * x:4 * x + 4]
                rgb[3 * x:3 * x + 3] = bytes(((c * a + 255 * (255 - a)) // 255) for c in (r, g, b))
            rows.append(bytes(rgb))
        else:
            rows.append(bytes(line))
    return width, height, rows


def hex_colour(text):
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


def near(pixel, colour):
    return all(abs(p - c) <= 6 for p, c in zip(pixel, colour))


def inked_with(pixel, colour):
    """Whether `pixel` is `colour`, or `colour` blended with the white page
    by anti-aliasing (at least half of it): the pixel's ink (255 - value) is
    a multiple t >= 0.5 of the colour's, channel for channel."""
    ink = [255 - p for p in pixel]
    target = [255 - c for c in colour]
    norm = sum(c * c for c in target)
    if norm == 0:
        return False
    t = sum(i * c for i, c in zip(ink, target)) / norm
    return t >= 0.5 and all(abs(i - t * c) <= 14 for i, c in zip(ink, target))


# ---- the inputs -------------------------------------------------------------------

with open(os.path.join(work, "summary.json"), encoding="utf-8") as f:
    summary = json.load(f)
with open(os.path.join(work, "dom.html"), encoding="utf-8") as f:
    dom = f.read()

quota = summary["quota"]
usage = quota["usage"]


def plain(value):
    """A JSON number as the page prints it: integers plainly, others as JSON."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---- the summary holds what was decided (the whole test only) ------------------------

if os.environ.get("KR_SCENARIO") == "1":
    per_day = [int(n) for n in os.environ["KR_PER_DAY"].split()]
    total = sum(per_day)
    expected = {
        "quota.usage.current": (usage["current"], total),
        "quota.usage.limit": (usage["limit"], 100),
        "quota.percentageUsed": (quota["percentageUsed"], total * 100 / 100),
        "quota.status": (quota["status"], "warning" if total >= 90 else "ok"),
        "quota.usage.periodStart": (usage["periodStart"], "2026-03-01T00:00:00Z"),
        "monthDecisions": (summary["monthDecisions"], total),
        "tenantName": (summary["tenantName"], "Acme <Bank>"),
        "generatedAt": (summary["generatedAt"], os.environ["KR_REPORT_AT"]),
        "daily (decisions)": ([d["decisions"] for d in summary["daily"]], per_day),
        "daily (days)": ([d["day"] for d in summary["daily"]], [f"2026-03-{d:02d}" for d in range(1, 11)]),
        "flows": (sorted(f["flow"] for f in summary["flows"]), ["banner", "home"]),
        "flows (decisions)": (sum(f["decisions"] for f in summary["flows"]), total),
    }
    # The projection: the count plus the rate since the 1st, carried to the
    # 1st of April (report at 2026-03-10T15:00:00Z).
    elapsed, remaining = (9 * 24 + 15) * 3600, (21 * 24 + 9) * 3600
    projection = int(total + total / elapsed * remaining + 0.5)
    expected["projectedMonthEnd"] = (summary["projectedMonthEnd"], projection)
    for name, (got, want) in expected.items():
        if got != want:
            fail(f"summary {name} is {got!r}, expected {want!r}")
    if not any(f for f in failures if f.startswith("summary")):
        ok(f"the summary holds the {total} decisions of 10 days through 2 flows, "
           f"{quota['percentageUsed']} % of 100, projected {summary['projectedMonthEnd']}")

# ---- the DOM Chromium parsed -------------------------------------------------------


def text_of(element_id):
    found = re.findall(r'<[^>]*\bid="' + re.escape(element_id) + r'"[^>]*>([^<]*)<', dom)
    if len(found) != 1:
        return f"<{len(found)} elements>"
    return found[0]


figures = {
    "current": plain(usage["current"]),
    "limit": "unlimited" if usage["limit"] is None else plain(usage["limit"]),
    "percent": "n/a" if quota["percentageUsed"] is None else f"{quota['percentageUsed']:.1f}",
    "projected": plain(summary["projectedMonthEnd"]),
    "month-decisions": plain(summary["monthDecisions"]),
}
for element_id, want in figures.items():
    got = text_of(element_id)
    if got != want:
        fail(f'id="{element_id}" reads {got!r}, the summary says {want!r}')
    else:
        ok(f'id="{element_id}" reads {got}')

if dom.count("<svg") != 1:
    fail(f"{dom.count('<svg')} <svg> elements in the DOM, expected 1")
bars = re.findall(r'<rect class="bar" data-day="([0-9-]+)" data-decisions="([0-9]+)"', dom)
want_bars = [(d["day"], str(d["decisions"])) for d in summary["daily"]]
if bars != want_bars:
    fail(f"the SVG's bars {bars} are not the summary's days {want_bars}")
else:
    ok(f"the SVG has one bar per day ({len(bars)})")
thresholds = dom.count('<g class="threshold"')
if thresholds != (3 if usage["limit"] is not None else 0):
    fail(f"{thresholds} threshold lines for the limit {usage['limit']}")
name = summary["tenantName"]
escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
if escaped not in dom:
    fail(f"the tenant's name is not in the DOM as {escaped!r}")
elif escaped != name and name in dom:
    fail(f"the tenant's name {name!r} is in the DOM unescaped")
else:
    ok(f"the tenant's name reads {escaped}")
if re.search(r"<script", dom, re.I):
    fail("the DOM has a <script>")
urls = re.findall(r"https?://[^\s\"'<>)]*", dom)
if urls != ["http://www.w3.org/2000/svg"]:
    fail(f"URLs in the DOM other than the SVG namespace: {urls}")

# The chart's colours, from the DOM: the checks below follow the page's palette.
colours = {}
match = re.search(r'<g class="bars" fill="(#[0-9a-fA-F]{6})"', dom)
if match:
    colours["bars"] = hex_colour(match.group(1))
match = re.search(r'<polyline class="cumulative"[^>]*stroke="(#[0-9a-fA-F]{6})"', dom)
if match:
    colours["cumulative line"] = hex_colour(match.group(1))
match = re.search(r'<g class="projection"[^>]*><line[^>]*stroke="(#[0-9a-fA-F]{6})"', dom)
if match:
    colours["projection"] = hex_colour(match.group(1))
for percent, line in re.findall(r'<g class="threshold" data-percent="([0-9]+)"><line[^>]*stroke="(#[0-9a-fA-F]{6})"',
                                 dom):
    colours[f"{percent} % line"] = hex_colour(line)
expected_marks = ["bars", "cumulative line", "projection"]
if usage["limit"] is not None:
    expected_marks += ["90 % line", "95 % line", "100 % line"]
for mark in expected_marks:
    if mark not in colours:
        fail(f"no {mark} in the SVG")

# ---- the screenshot ----------------------------------------------------------------

try:
    width, height, rows = read_png(os.path.join(work, "report.png"))
except (OSError, ValueError, zlib.error) as error:
    fail(f"report.png: {error}")
    width, height, rows = 0, 0, []
if width < 1000 or height < 1000:
    fail(f"the screenshot is {width} x {height}, expected at least 1000 x 1000")
else:
    ok(f"the screenshot is {width} x {height}")

if rows:
    non_white = 0
    distinct = set()
    marks = {mark: [] for mark in colours}  # mark -> [(x, y)]
    for y, row in enumerate(rows):
        for x in range(width):
            pixel = row[3 * x:3 * x + 3]
            if pixel[0] >= 245 and pixel[1] >= 245 and pixel[2] >= 245:
                continue
            non_white += 1
            distinct.add(pixel)
            for mark, colour in colours.items():
                # Bars are filled rectangles: their inside is exactly their
                # colour. Lines are thin and anti-aliased.
                if near(pixel, colour) if mark == "bars" else inked_with(pixel, colour):
                    marks[mark].append((x, y))
    share = non_white / (width * height)
    if share < 0.02:
        fail(f"only {share:.2%} of the screenshot is not white: blank?")
    else:
        ok(f"{share:.1%} of the screenshot is not white, {len(distinct)} colours")
    if len(distinct) < 8:
        fail(f"only {len(distinct)} colours in the screenshot")

    # The chart: the row with the most bar pixels crosses every bar (each
    # day has decisions); its runs of bar colour are the bars.
    bar_pixels = marks.get("bars", [])
    by_row = {}
    for x, y in bar_pixels:
        by_row.setdefault(y, []).append(x)
    if not by_row:
        fail("no bar in the screenshot")
    else:
        y_bars = max(by_row, key=lambda y: len(by_row[y]))
        xs = sorted(by_row[y_bars])
        runs = 1 + sum(1 for a, b in zip(xs, xs[1:]) if b - a > 1)
        days_with_decisions = sum(1 for d in summary["daily"] if d["decisions"] > 0)
        if runs != days_with_decisions:
            fail(f"{runs} bars across the screenshot's row {y_bars}, expected {days_with_decisions}")
        else:
            ok(f"{runs} bars in the screenshot")
        # The chart region: from the first bar to the plot's width (780 of
        # the 900 view-box units) right of it, and up to 300 pixels above the
        # bars' base.
        left = xs[0] - 10
        base = y_bars
        while len(by_row.get(base + 1, ())) >= len(xs) // 2:
            base += 1
        region = (left, base - 300, left + 800, base + 2)
        ok(f"chart region x {region[0]}..{region[2]}, y {region[1]}..{region[3]}")
        for mark in expected_marks:
            inside = [(x, y) for x, y in marks.get(mark, [])
                      if region[0] <= x <= region[2] and region[1] <= y <= region[3]]
            minimum = 200 if mark == "bars" else 40
            if len(inside) < minimum:
                fail(f"{len(inside)} pixels of the {mark} in the chart region, expected at least {minimum}")
            else:
                ok(f"{len(inside)} pixels of the {mark} in the chart region")

if failures:
    print(f"usage_report: {len(failures)} check(s) failed")
    sys.exit(1)
print("usage_report: the page renders, and says what the summary says")
PY
