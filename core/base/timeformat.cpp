#include "timeformat.h"

#include <cstdio>
#include <ctime>

namespace podscape::core {

namespace {

std::string format(WallTime t, int fractionDigits)
{
    using namespace std::chrono;
    auto secs = floor<seconds>(t);
    auto frac = duration_cast<nanoseconds>(t - secs).count();
    std::time_t tt = system_clock::to_time_t(time_point_cast<system_clock::duration>(secs));
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (fractionDigits == 6)
        n += std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(frac / 1000));
    else if (fractionDigits == 9)
        n += std::snprintf(buf + n, sizeof buf - n, ".%09lld", static_cast<long long>(frac));
    buf[n++] = 'Z';
    return std::string(buf, n);
}

bool digits(std::string_view s, size_t pos, size_t count, int &out)
{
    if (pos + count > s.size())
        return false;
    out = 0;
    for (size_t i = 0; i < count; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9')
            return false;
        out = out * 10 + (c - '0');
    }
    return true;
}

} // namespace

std::string formatRfc3339(WallTime t) { return format(t, 0); }
std::string formatRfc3339Micro(WallTime t) { return format(t, 6); }
std::string formatRfc3339Nano(WallTime t) { return format(t, 9); }

Result<WallTime> parseRfc3339(std::string_view s)
{
    auto bad = [&] {
        return fail(Reason::BadRequest, "invalid time \"" + std::string(s)
                                            + "\": expected RFC 3339, such as 2024-05-01T10:00:00Z");
    };
    int y, mo, d, h, mi, se;
    if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-'
        || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h)
        || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
        return bad();
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return bad();
    size_t pos = 19;
    long long nanos = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int count = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (count < 9) {
                nanos = nanos * 10 + (s[pos] - '0');
                ++count;
            }
            ++pos;
        }
        if (count == 0)
            return bad();
        for (; count < 9; ++count)
            nanos *= 10;
    }
    long offsetSeconds = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om))
            return bad();
        offsetSeconds = (oh * 3600L + om * 60L) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return bad();
    }
    if (pos != s.size())
        return bad();
    using namespace std::chrono;
    sys_days day = year{y} / month{static_cast<unsigned>(mo)} / std::chrono::day{static_cast<unsigned>(d)};
    if (!(year{y} / month{static_cast<unsigned>(mo)} / std::chrono::day{static_cast<unsigned>(d)}).ok())
        return bad();
    WallTime t = WallTime(day.time_since_epoch()) + hours(h) + minutes(mi) + seconds(se) + nanoseconds(nanos)
                 - seconds(offsetSeconds);
    return t;
}

std::string formatAge(std::chrono::nanoseconds age)
{
    // kubectl's duration.HumanDuration: two units while the larger one is small.
    using namespace std::chrono;
    if (age < -seconds(1))
        return "<invalid>";
    if (age < nanoseconds(0))
        return "0s";
    long long s = duration_cast<seconds>(age).count();
    long long m = s / 60, h = s / 3600, days = h / 24, years = days / 365;
    auto two = [](long long a, const char *ua, long long b, const char *ub) {
        return b == 0 ? std::to_string(a) + ua : std::to_string(a) + ua + std::to_string(b) + ub;
    };
    if (s < 60 * 2) return std::to_string(s) + "s";
    if (m < 10) return two(m, "m", s % 60, "s");
    if (m < 60 * 3) return std::to_string(m) + "m";
    if (h < 8) return two(h, "h", m % 60, "m");
    if (h < 48) return std::to_string(h) + "h";
    if (h < 24 * 8) return two(days, "d", h % 24, "h");
    if (h < 24 * 365 * 2) return std::to_string(days) + "d";
    if (h < 24 * 365 * 8) return two(years, "y", days % 365, "d");
    return std::to_string(years) + "y";
}

} // namespace podscape::core
