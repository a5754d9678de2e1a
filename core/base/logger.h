#pragma once
// Levelled logging with an injectable sink. Lines are built only when their level is
// enabled, so debug logging on hot paths costs one comparison when off.
//
//   PS_LOG(Info, "store") << "compacted to revision " << rev;

#include <atomic>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>

namespace podscape::core {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3, Off = 4 };

std::string_view logLevelName(LogLevel level);
// Accepts debug|info|warning|warn|error|off (any case); returns false for anything else.
bool parseLogLevel(std::string_view text, LogLevel &out);

class Logger
{
public:
    using Sink = std::function<void(LogLevel, std::string_view component, std::string_view message)>;

    static Logger &instance();

    void setLevel(LogLevel level) { m_level.store(level, std::memory_order_relaxed); }
    LogLevel level() const { return m_level.load(std::memory_order_relaxed); }
    bool enabled(LogLevel level) const { return level >= this->level() && level != LogLevel::Off; }

    // Replaces the sink (default: one line on stderr with an ISO time). Returns the old one.
    Sink setSink(Sink sink);
    void write(LogLevel level, std::string_view component, std::string_view message);

private:
    Logger();
    std::atomic<LogLevel> m_level{LogLevel::Info};
    std::mutex m_mutex;
    Sink m_sink;
};

// One log line; written when it goes out of scope.
class LogLine
{
public:
    LogLine(LogLevel level, std::string_view component) : m_level(level), m_component(component) {}
    ~LogLine() { Logger::instance().write(m_level, m_component, m_stream.str()); }
    LogLine(const LogLine &) = delete;
    LogLine &operator=(const LogLine &) = delete;

    template<typename T>
    LogLine &operator<<(const T &v)
    {
        m_stream << v;
        return *this;
    }

private:
    LogLevel m_level;
    std::string_view m_component;
    std::ostringstream m_stream;
};

} // namespace podscape::core

// A one-pass loop rather than if/else, so that PS_LOG under an unbraced `if` cannot capture
// that if's `else`.
#define PS_LOG(level, component)                                                                   \
    for (bool ps_log_enabled_ = ::podscape::core::Logger::instance().enabled(                     \
             ::podscape::core::LogLevel::level);                                                   \
         ps_log_enabled_; ps_log_enabled_ = false)                                                  \
    ::podscape::core::LogLine(::podscape::core::LogLevel::level, component)
