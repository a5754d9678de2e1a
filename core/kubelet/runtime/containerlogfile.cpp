#include "containerlogfile.h"

#include "core/base/logger.h"
#include "core/base/timeformat.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace podscape::core::kubelet::runtime {

namespace {

constexpr size_t kBlockBytes = 64 * 1024;      // one pread, forwards or backwards
constexpr size_t kMaxHeaderBytes = 256;        // "<time> <stream> <tags> " is far shorter
constexpr size_t kMaxRecordBytes = kMaxJoinedLogLineBytes + kMaxHeaderBytes;
constexpr size_t kBatchBytes = 256 * 1024;     // the writer's formatted-but-unwritten bound
constexpr size_t kChunkLines = 4096;           // a follower's read() returns at most this...
constexpr size_t kChunkBytes = 1024 * 1024;    // ...or about this much text
constexpr int kMaxFilesLimit = 1000;

std::string errnoText(int err) { return std::strerror(err); }

class FileHandle
{
public:
    explicit FileHandle(int fd) : m_fd(fd) {}
    ~FileHandle()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    FileHandle(const FileHandle &) = delete;
    FileHandle &operator=(const FileHandle &) = delete;
    int fd() const { return m_fd; }

private:
    int m_fd;
};

std::shared_ptr<FileHandle> openForReading(const std::string &path, int *err = nullptr)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err)
            *err = errno;
        return nullptr;
    }
    return std::make_shared<FileHandle>(fd);
}

uint64_t fileSize(const std::shared_ptr<FileHandle> &file)
{
    struct stat st {};
    if (!file || ::fstat(file->fd(), &st) != 0)
        return 0;
    return uint64_t(st.st_size);
}

// Reads up to `size` bytes at `offset`; fewer only at the end of the file. -1 on error.
ssize_t preadAll(int fd, char *data, size_t size, uint64_t offset)
{
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(fd, data + done, size - done, off_t(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        done += size_t(n);
    }
    return ssize_t(done);
}

std::string siblingPath(const std::string &path, uint64_t suffix)
{
    return suffix == 0 ? path : path + "." + std::to_string(suffix);
}

// A generation is one file of the log's life: the writer's first file is 0, each rotation
// starts the next. Positions order records across files.
struct Position {
    uint64_t generation = 0;
    uint64_t offset = 0;
    auto operator<=>(const Position &) const = default;
};

struct Segment {
    uint64_t generation = 0;
    std::shared_ptr<FileHandle> file; // null: the file is missing (reads as empty)
    uint64_t size = 0;                // bytes to read
};

struct Header {
    TimePoint time;
    bool stderrStream = false;
    bool partial = false;
    size_t textStart = 0;
};

// "<RFC 3339 time> <stdout|stderr> <tags> <text>"; tags are ':'-separated, the first P or F.
bool parseHeader(std::string_view line, Header &h)
{
    const size_t sp1 = line.substr(0, 48).find(' ');
    if (sp1 == std::string_view::npos)
        return false;
    auto time = parseRfc3339(line.substr(0, sp1));
    if (!time)
        return false;
    std::string_view rest = line.substr(sp1 + 1);
    if (rest.size() < 8 || rest[6] != ' ')
        return false;
    const std::string_view stream = rest.substr(0, 6);
    if (stream == "stdout")
        h.stderrStream = false;
    else if (stream == "stderr")
        h.stderrStream = true;
    else
        return false;
    rest.remove_prefix(7);
    const size_t sp3 = rest.find(' ');
    const std::string_view tags = rest.substr(0, sp3);
    const std::string_view first = tags.substr(0, tags.find(':'));
    if (first == "F")
        h.partial = false;
    else if (first == "P")
        h.partial = true;
    else
        return false;
    h.textStart = sp3 == std::string_view::npos ? line.size() : sp1 + 1 + 7 + sp3 + 1;
    h.time = *time;
    return true;
}

// Reads one file's records forwards from an offset up to a limit that may grow (a follower's
// current file). Keeps at most one record plus one block in memory.
class SegmentCursor
{
public:
    enum class Step { Record, Truncated, Overlong, NeedMore, End, Error };

    void reset(std::shared_ptr<FileHandle> file, uint64_t generation, uint64_t offset)
    {
        m_file = std::move(file);
        m_generation = generation;
        m_bufOffset = offset;
        m_buf.clear();
        if (m_buf.capacity() > 2 * kBlockBytes)
            m_buf.shrink_to_fit(); // a long record's buffer is not kept for the next file
        m_pos = m_scan = 0;
        m_limit = offset;
        m_final = false;
        m_skipping = false;
    }
    void setFile(std::shared_ptr<FileHandle> file) { m_file = std::move(file); }
    bool hasFile() const { return m_file != nullptr; }
    const std::shared_ptr<FileHandle> &file() const { return m_file; }
    uint64_t generation() const { return m_generation; }
    void setLimit(uint64_t limit, bool final)
    {
        m_limit = limit;
        m_final = final;
    }
    size_t bufferedBytes() const { return m_buf.capacity(); }
    int error() const { return m_error; }

    // The next record (without its newline) and where it starts; valid until the next call.
    Step next(std::string_view &record, Position &pos)
    {
        while (true) {
            if (m_scan < m_buf.size()) {
                const void *nl = std::memchr(m_buf.data() + m_scan, '\n', m_buf.size() - m_scan);
                if (nl) {
                    const size_t end = size_t(static_cast<const char *>(nl) - m_buf.data());
                    const size_t start = m_pos;
                    m_pos = m_scan = end + 1;
                    if (m_skipping) { // the rest of an overlong record
                        m_skipping = false;
                        continue;
                    }
                    if (end - start > kMaxRecordBytes)
                        return Step::Overlong;
                    record = std::string_view(m_buf.data() + start, end - start);
                    pos = {m_generation, m_bufOffset + start};
                    return Step::Record;
                }
                m_scan = m_buf.size();
            }
            if (m_skipping) {
                m_pos = m_scan = m_buf.size();
            } else if (m_buf.size() - m_pos > kMaxRecordBytes) {
                m_skipping = true;
                m_pos = m_scan = m_buf.size();
                return Step::Overlong;
            }
            const uint64_t have = m_bufOffset + m_buf.size();
            if (!m_file || have >= m_limit) {
                if (m_final && m_pos < m_buf.size()) {
                    // A file cut mid-record (its writer was killed): keep what is there.
                    const size_t start = m_pos;
                    m_pos = m_scan = m_buf.size();
                    record = std::string_view(m_buf.data() + start, m_buf.size() - start);
                    pos = {m_generation, m_bufOffset + start};
                    return Step::Truncated;
                }
                return m_final ? Step::End : Step::NeedMore;
            }
            if (m_pos > 0) {
                m_buf.erase(0, m_pos);
                m_bufOffset += m_pos;
                m_scan -= m_pos;
                m_pos = 0;
            }
            const size_t want = size_t(std::min<uint64_t>(kBlockBytes, m_limit - have));
            const size_t old = m_buf.size();
            m_buf.resize(old + want);
            const ssize_t n = preadAll(m_file->fd(), m_buf.data() + old, want, have);
            if (n < 0) {
                m_error = errno;
                m_buf.resize(old);
                return Step::Error;
            }
            m_buf.resize(old + size_t(n));
            if (n == 0)
                m_limit = have; // shorter than expected (cut by someone else): it ends here
        }
    }

private:
    std::shared_ptr<FileHandle> m_file;
    uint64_t m_generation = 0;
    std::string m_buf;
    uint64_t m_bufOffset = 0; // file offset of m_buf[0]
    size_t m_pos = 0;         // start of the first unconsumed record in m_buf
    size_t m_scan = 0;        // no newline in m_buf[m_pos, m_scan)
    uint64_t m_limit = 0;
    bool m_final = false;
    bool m_skipping = false;
    int m_error = 0;
};

// Joins each stream's P records with its next F record. A line is dropped when it completed
// before `skipBefore` (a tail starts reading a little early to catch the other stream's
// open line) or, until the first line at or after `since`, when older than that.
class LineAssembler
{
public:
    LineAssembler(Position skipBefore, std::optional<TimePoint> since) : m_skipBefore(skipBefore), m_since(since) {}

    void add(const Header &h, std::string_view text, Position pos, std::vector<LogLine> &out)
    {
        Open &o = m_open[h.stderrStream];
        while (o.text.size() + text.size() > kMaxJoinedLogLineBytes) {
            const size_t take = kMaxJoinedLogLineBytes - o.text.size();
            o.text.append(text.substr(0, take));
            text.remove_prefix(take);
            o.time = h.time;
            o.last = pos;
            complete(h.stderrStream, out);
        }
        o.text.append(text);
        o.time = h.time;
        o.last = pos;
        o.active = true;
        if (!h.partial)
            complete(h.stderrStream, out);
    }

    // The end of the data: lines still open are returned as they are.
    void finish(std::vector<LogLine> &out)
    {
        const bool stderrFirst = m_open[1].active && (!m_open[0].active || m_open[1].last < m_open[0].last);
        for (bool s : {stderrFirst, !stderrFirst})
            if (m_open[s].active)
                complete(s, out);
    }

    size_t bufferedBytes() const { return m_open[0].text.capacity() + m_open[1].text.capacity(); }

private:
    struct Open {
        bool active = false;
        TimePoint time;
        std::string text;
        Position last;
    };

    void complete(bool stderrStream, std::vector<LogLine> &out)
    {
        Open &o = m_open[stderrStream];
        LogLine line{o.time, stderrStream, std::move(o.text)};
        const bool keep = o.last >= m_skipBefore && sinceAdmits(line.time);
        o = Open{};
        if (keep)
            out.push_back(std::move(line));
    }

    bool sinceAdmits(TimePoint time)
    {
        if (!m_since || m_sinceReached)
            return true;
        m_sinceReached = time >= *m_since;
        return m_sinceReached;
    }

    Open m_open[2];
    Position m_skipBefore;
    std::optional<TimePoint> m_since;
    bool m_sinceReached = false;
};

// limitBytes over a stream of lines, with applyLogOptions' rules (it is used for one line).
class ByteBudget
{
public:
    explicit ByteBudget(const LogOptions &options) : m_timestamps(options.timestamps)
    {
        if (options.limitBytes && *options.limitBytes >= 0)
            m_left = *options.limitBytes;
    }
    bool exhausted() const { return m_left && *m_left <= 0; }
    // False when the budget is used up: drop this line and stop.
    bool admit(LogLine &line)
    {
        if (!m_left)
            return true;
        if (*m_left <= 0)
            return false;
        LogOptions one;
        one.timestamps = m_timestamps;
        one.limitBytes = *m_left;
        auto fitted = applyLogOptions({line}, one);
        if (fitted.empty()) {
            m_left = 0;
            return false;
        }
        if (fitted[0].text.size() < line.text.size()) {
            line = std::move(fitted[0]);
            m_left = 0;
            return true;
        }
        *m_left -= int64_t(line.format(m_timestamps).size()) + 1;
        return true;
    }

private:
    bool m_timestamps;
    std::optional<int64_t> m_left;
};

// Calls visit(position, header) for every record with a valid header, the last one first,
// until visit returns false. Reads blocks from the end, so a tail costs what it returns.
template<typename Visit>
Result<void> scanBackward(const std::vector<Segment> &segments, Visit &&visit)
{
    std::string buf;
    uint64_t recordEnd = 0; // where the record after the current one ends (its newline, or EOF)
    auto visitAt = [&](uint64_t generation, uint64_t start, size_t at) {
        if (recordEnd - start > kMaxRecordBytes) // skipped by the forward read too
            return true;
        std::string_view header(buf.data() + at, std::min(buf.size() - at, kMaxHeaderBytes));
        header = header.substr(0, header.find('\n'));
        Header h;
        return !parseHeader(header, h) || visit(Position{generation, start}, h);
    };
    for (auto seg = segments.rbegin(); seg != segments.rend(); ++seg) {
        if (!seg->file || seg->size == 0)
            continue;
        uint64_t hi = seg->size;
        recordEnd = seg->size;
        while (true) {
            const uint64_t lo = hi > kBlockBytes ? hi - kBlockBytes : 0;
            // The block, plus enough of the next to parse the header of a record starting in it.
            buf.resize(size_t(std::min(seg->size, hi + kMaxHeaderBytes) - lo));
            const ssize_t n = preadAll(seg->file->fd(), buf.data(), buf.size(), lo);
            if (n < 0)
                return fail(Reason::InternalError, "cannot read container log: " + errnoText(errno));
            buf.resize(size_t(n));
            size_t p = std::min<size_t>(size_t(hi - lo), buf.size());
            while (p > 0) {
                const void *nl = ::memrchr(buf.data(), '\n', p);
                if (!nl)
                    break;
                p = size_t(static_cast<const char *>(nl) - buf.data());
                const uint64_t start = lo + p + 1;
                if (start < seg->size && p + 1 < buf.size() && !visitAt(seg->generation, start, p + 1))
                    return {};
                recordEnd = lo + p;
            }
            if (lo == 0) {
                if (!buf.empty() && !visitAt(seg->generation, 0, 0))
                    return {};
                break;
            }
            hi = lo;
        }
    }
    return {};
}

struct StartPoint {
    Position start;      // where the forward read begins
    Position skipBefore; // lines completed before this are not part of the answer
};

// Finds where the lines that since/tail select begin, reading from the end. A line completes
// at its F record, or at its stream's last record when that is a P (a line still open);
// completions are counted until the tail is full or a line is older than `since`. Lines of
// the other stream completing later may have started earlier: their first records are found
// by going on back to that stream's previous completion.
Result<StartPoint> resolveStart(const std::vector<Segment> &segments, const LogOptions &options, Position begin,
                                Position end)
{
    const bool tail = options.tailLines && *options.tailLines >= 0;
    if (!tail && !options.since)
        return StartPoint{begin, begin};
    const int64_t want = tail ? *options.tailLines : INT64_MAX;
    bool seen[2] = {false, false};
    bool boundary[2] = {false, false};
    std::optional<Position> earliest[2];
    std::optional<Position> threshold;
    int64_t count = 0;
    Position following = end; // the record after the current one
    auto scanned = scanBackward(segments, [&](Position pos, const Header &h) {
        const bool s = h.stderrStream;
        const bool completion = !h.partial || !seen[s];
        seen[s] = true;
        if (!threshold) {
            if (completion) {
                if (count >= want || (options.since && h.time < *options.since)) {
                    threshold = following;
                    boundary[s] = true;
                    boundary[!s] = !seen[!s];
                } else {
                    ++count;
                }
            }
            following = pos;
        } else if (!boundary[s]) {
            if (completion)
                boundary[s] = true;
            else
                earliest[s] = pos;
        }
        return !(threshold && boundary[0] && boundary[1]);
    });
    if (!scanned)
        return scanned.takeError();
    if (!threshold)
        return StartPoint{begin, begin};
    Position start = *threshold;
    for (const auto &e : earliest)
        if (e && *e < start)
            start = *e;
    return StartPoint{start, *threshold};
}

Result<std::vector<LogLine>> readSegments(const std::vector<Segment> &segments, const LogOptions &options,
                                          LogFileReadStats &stats)
{
    const Position begin = segments.empty() ? Position{} : Position{segments.front().generation, 0};
    const Position end = segments.empty() ? Position{} : Position{segments.back().generation, segments.back().size};
    auto point = resolveStart(segments, options, begin, end);
    if (!point)
        return point.takeError();

    const bool tail = options.tailLines && *options.tailLines >= 0;
    const size_t tailLines = tail ? size_t(*options.tailLines) : 0;
    LineAssembler assembler(point->skipBefore, options.since);
    ByteBudget budget(options);
    std::deque<LogLine> kept; // with a tail: the last lines so far (more than asked only for pieces)
    std::vector<LogLine> out;
    std::vector<LogLine> lines;
    bool stop = false;
    auto take = [&] {
        for (auto &line : lines) {
            if (tail) {
                kept.push_back(std::move(line));
                if (kept.size() > tailLines)
                    kept.pop_front();
            } else if (!budget.admit(line)) {
                stop = true;
                break;
            } else {
                out.push_back(std::move(line));
            }
        }
        lines.clear();
    };

    SegmentCursor cursor;
    for (const Segment &seg : segments) {
        if (stop)
            break;
        if (seg.generation < point->start.generation)
            continue;
        cursor.reset(seg.file, seg.generation, seg.generation == point->start.generation ? point->start.offset : 0);
        cursor.setLimit(seg.size, true);
        std::string_view record;
        Position pos;
        while (!stop) {
            const auto step = cursor.next(record, pos);
            if (step == SegmentCursor::Step::End)
                break;
            if (step == SegmentCursor::Step::Error)
                return fail(Reason::InternalError, "cannot read container log: " + errnoText(cursor.error()));
            if (step == SegmentCursor::Step::Overlong) {
                ++stats.malformedRecords;
                continue;
            }
            Header h;
            if (!parseHeader(record, h)) {
                ++stats.malformedRecords;
                continue;
            }
            if (step == SegmentCursor::Step::Truncated)
                ++stats.truncatedRecords;
            assembler.add(h, record.substr(std::min(h.textStart, record.size())), pos, lines);
            take();
        }
    }
    if (!stop) {
        assembler.finish(lines);
        take();
    }
    if (!tail)
        return out;
    out.assign(std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
    LogOptions limitOnly;
    limitOnly.timestamps = options.timestamps;
    limitOnly.limitBytes = options.limitBytes;
    return applyLogOptions(std::move(out), limitOnly);
}

} // namespace

// The reading side's view of a live writer, taken under its mutex.
struct LogFileAccess {
    // Every file on disk, oldest first, the current one last (with a null file if it is
    // missing). Opened now, so later rotations cannot pull them away from the reader.
    static std::vector<Segment> snapshotLocked(const ContainerLogFile &log)
    {
        std::vector<Segment> segments;
        const uint64_t g = log.m_generation;
        const uint64_t rotated = std::min<uint64_t>(g, uint64_t(log.m_options.maxFiles - 1));
        for (uint64_t k = rotated; k >= 1; --k) {
            if (auto file = openForReading(log.pathFor(k))) {
                const uint64_t size = fileSize(file);
                segments.push_back({g - k, std::move(file), size});
            }
        }
        auto current = openForReading(log.m_path);
        segments.push_back({g, current, current ? log.m_size : 0});
        return segments;
    }
};

// ---- the writer ---------------------------------------------------------------------------------

Result<std::shared_ptr<ContainerLogFile>> ContainerLogFile::create(std::string path, ContainerLogFileOptions options)
{
    if (options.maxFiles < 1 || options.maxFiles > kMaxFilesLimit)
        return fail(Reason::Invalid, "container log: maxFiles must be between 1 and " + std::to_string(kMaxFilesLimit)
                                         + ", not " + std::to_string(options.maxFiles));
    if (options.maxLineBytes < 1 || options.maxLineBytes > kMaxJoinedLogLineBytes)
        return fail(Reason::Invalid, "container log: maxLineBytes must be between 1 and "
                                         + std::to_string(kMaxJoinedLogLineBytes) + ", not "
                                         + std::to_string(options.maxLineBytes));
    if (options.maxFileBytes < 1)
        return fail(Reason::Invalid, "container log: maxFileBytes must be positive");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return fail(Reason::InternalError, "cannot create container log \"" + path + "\": " + errnoText(errno));
    // Rotated files of an earlier writer of this path would read as this instance's past.
    for (int k = 1; k < options.maxFiles; ++k)
        ::unlink(siblingPath(path, uint64_t(k)).c_str());
    return std::shared_ptr<ContainerLogFile>(new ContainerLogFile(std::move(path), options, fd));
}

ContainerLogFile::ContainerLogFile(std::string path, ContainerLogFileOptions options, int fd)
    : m_path(std::move(path)), m_options(options), m_fd(fd)
{
    m_batch.reserve(kBatchBytes + options.maxLineBytes + 2 * kMaxHeaderBytes);
}

ContainerLogFile::~ContainerLogFile()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

std::string ContainerLogFile::pathFor(uint64_t suffix) const { return siblingPath(m_path, suffix); }

Clock::TimePoint ContainerLogFile::stamp(Clock::TimePoint now)
{
    // Readers find since/tail from the end assuming times never go back: a wall clock
    // stepped back stamps the current time of the log instead.
    m_lastTime = std::max(m_lastTime, now);
    return m_lastTime;
}

void ContainerLogFile::append(bool stderrStream, std::string_view bytes, Clock::TimePoint now)
{
    std::lock_guard g(m_mutex);
    if (m_closed) {
        m_droppedRecords += uint64_t(std::count(bytes.begin(), bytes.end(), '\n'));
        return;
    }
    const TimePoint t = stamp(now);
    while (!bytes.empty()) {
        const size_t nl = bytes.find('\n');
        if (nl == std::string_view::npos) {
            addText(stderrStream, bytes, t);
            break;
        }
        addText(stderrStream, bytes.substr(0, nl), t);
        bytes.remove_prefix(nl + 1);
        std::string &line = m_pending[stderrStream].text;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        addRecord(stderrStream, false, line, t);
        line.clear();
    }
    writeBatch();
}

// Adds text without a newline to the stream's partial line, writing out P records whenever
// it grows past maxLineBytes: the partial line is bounded, however long the line.
void ContainerLogFile::addText(bool stderrStream, std::string_view text, Clock::TimePoint now)
{
    std::string &line = m_pending[stderrStream].text;
    const size_t max = m_options.maxLineBytes;
    while (!text.empty()) {
        const size_t take = std::min(text.size(), max + 1 - line.size());
        line.append(text.substr(0, take));
        text.remove_prefix(take);
        if (line.size() > max) {
            size_t cut = max;
            if (cut > 1 && line[cut - 1] == '\r')
                --cut; // may be the first half of "\r\n": keep it with the line's end
            addRecord(stderrStream, true, std::string_view(line).substr(0, cut), now);
            line.erase(0, cut);
        }
    }
}

void ContainerLogFile::addRecord(bool stderrStream, bool partial, std::string_view text, Clock::TimePoint now)
{
    using namespace std::chrono;
    const auto second = floor<seconds>(now);
    if (second.time_since_epoch().count() != m_cachedSecond) {
        m_cachedPrefix = formatRfc3339(second);
        m_cachedPrefix.pop_back(); // 'Z'
        m_cachedSecond = second.time_since_epoch().count();
    }
    char fraction[12];
    long long nanos = duration_cast<nanoseconds>(now - second).count();
    fraction[0] = '.';
    for (int i = 9; i >= 1; --i, nanos /= 10)
        fraction[i] = char('0' + nanos % 10);
    fraction[10] = 'Z';

    const size_t size = m_cachedPrefix.size() + 11 + 10 + text.size() + 1;
    const uint64_t used = m_size + m_batch.size();
    if (used > 0 && used + size > m_options.maxFileBytes) {
        writeBatch();
        rotate();
    }
    m_batch += m_cachedPrefix;
    m_batch.append(fraction, 11);
    m_batch += stderrStream ? " stderr " : " stdout ";
    m_batch += partial ? "P " : "F ";
    m_batch += text;
    m_batch += '\n';
    ++m_batchRecords;
    m_pending[stderrStream].open = partial;
    if (m_batch.size() >= kBatchBytes)
        writeBatch();
}

void ContainerLogFile::writeBatch()
{
    if (m_batch.empty())
        return;
    if (m_fd < 0) // the file could not be made at the last rotation: try again
        m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    bool ok = false;
    int err = EBADF;
    if (m_fd >= 0) {
        // pwrite at the committed size: whatever a failed write left behind is overwritten.
        size_t done = 0;
        while (done < m_batch.size()) {
            const ssize_t n = ::pwrite(m_fd, m_batch.data() + done, m_batch.size() - done, off_t(m_size + done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                err = n < 0 ? errno : ENOSPC;
                break;
            }
            done += size_t(n);
        }
        ok = done == m_batch.size();
        if (!ok && done > 0 && ::ftruncate(m_fd, off_t(m_size)) != 0)
            m_garbage = true;
    }
    if (ok) {
        m_size += m_batch.size();
        ++m_seq;
        m_changed.notify_all();
    } else {
        m_droppedRecords += m_batchRecords;
        if (m_writeErrors++ % 1000 == 0)
            PS_LOG(Warning, "kubelet") << "container log " << m_path << ": dropped " << m_batchRecords
                                       << " records: " << errnoText(err);
    }
    m_batch.clear();
    m_batchRecords = 0;
}

void ContainerLogFile::rotate()
{
    if (m_garbage && m_fd >= 0 && ::ftruncate(m_fd, off_t(m_size)) == 0)
        m_garbage = false;
    bool moved;
    if (m_options.maxFiles == 1) {
        moved = ::unlink(m_path.c_str()) == 0 || errno == ENOENT;
    } else {
        ::unlink(pathFor(uint64_t(m_options.maxFiles - 1)).c_str());
        for (int k = m_options.maxFiles - 2; k >= 1; --k)
            ::rename(pathFor(uint64_t(k)).c_str(), pathFor(uint64_t(k + 1)).c_str());
        moved = ::rename(m_path.c_str(), pathFor(1).c_str()) == 0 || errno == ENOENT;
    }
    if (!moved) {
        // Keep writing to the current file, past maxFileBytes, rather than lose lines.
        if (m_writeErrors++ % 1000 == 0)
            PS_LOG(Warning, "kubelet") << "container log " << m_path << ": cannot rotate: " << errnoText(errno);
        return;
    }
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640); // -1: writeBatch retries
    m_size = 0;
    m_garbage = false;
    ++m_generation;
    ++m_rotations;
    ++m_seq;
    m_changed.notify_all();
}

void ContainerLogFile::flush(Clock::TimePoint now)
{
    std::lock_guard g(m_mutex);
    if (m_closed)
        return;
    const TimePoint t = stamp(now);
    for (bool s : {false, true}) {
        std::string &line = m_pending[s].text;
        const size_t keep = !line.empty() && line.back() == '\r' ? 1 : 0;
        if (line.size() > keep) {
            addRecord(s, true, std::string_view(line).substr(0, line.size() - keep), t);
            line.erase(0, line.size() - keep);
        }
    }
    writeBatch();
}

void ContainerLogFile::close(Clock::TimePoint now)
{
    std::lock_guard g(m_mutex);
    if (m_closed)
        return;
    const TimePoint t = stamp(now);
    for (bool s : {false, true}) {
        Pending &p = m_pending[s];
        if (!p.text.empty() && p.text.back() == '\r')
            p.text.pop_back();
        // An empty F ends a line whose start went out as P, so readers see it complete.
        if (!p.text.empty() || p.open)
            addRecord(s, false, p.text, t);
        p.text.clear();
    }
    writeBatch();
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    m_closed = true;
    ++m_seq;
    m_changed.notify_all();
}

bool ContainerLogFile::closed() const
{
    std::lock_guard g(m_mutex);
    return m_closed;
}

const std::string &ContainerLogFile::path() const { return m_path; }

uint64_t ContainerLogFile::droppedRecords() const
{
    std::lock_guard g(m_mutex);
    return m_droppedRecords;
}

uint64_t ContainerLogFile::writeErrors() const
{
    std::lock_guard g(m_mutex);
    return m_writeErrors;
}

uint64_t ContainerLogFile::rotations() const
{
    std::lock_guard g(m_mutex);
    return m_rotations;
}

size_t ContainerLogFile::pendingBytes() const
{
    std::lock_guard g(m_mutex);
    return m_pending[0].text.size() + m_pending[1].text.size() + m_batch.size();
}

Result<std::vector<LogLine>> ContainerLogFile::read(const LogOptions &options) const
{
    LogFileReadStats stats;
    return read(options, stats);
}

Result<std::vector<LogLine>> ContainerLogFile::read(const LogOptions &options, LogFileReadStats &stats) const
{
    std::vector<Segment> segments;
    {
        std::lock_guard g(m_mutex);
        segments = LogFileAccess::snapshotLocked(*this);
    }
    return readSegments(segments, options, stats);
}

std::unique_ptr<LogStream> ContainerLogFile::follow(const LogOptions &options, Clock &clock)
{
    return std::make_unique<ContainerLogFollower>(shared_from_this(), options, clock);
}

// ---- the follower -------------------------------------------------------------------------------

struct ContainerLogFollower::State {
    explicit State(const LogOptions &options) : budget(options) {}
    bool started = false;
    bool ended = false;
    std::deque<Segment> queue; // files of the first snapshot not read yet
    SegmentCursor cursor;
    std::optional<LineAssembler> assembler;
    ByteBudget budget;
    uint64_t seenSeq = 0;
    uint64_t missedFiles = 0;
    LogFileReadStats stats;
    std::vector<LogLine> lines;
    size_t chunkBytes = 0;
};

ContainerLogFollower::ContainerLogFollower(std::shared_ptr<ContainerLogFile> log, LogOptions options, Clock &clock)
    : m_log(std::move(log)), m_clock(clock), m_options(std::move(options)), m_state(std::make_unique<State>(m_options))
{}

ContainerLogFollower::~ContainerLogFollower() = default;

void ContainerLogFollower::close()
{
    std::lock_guard g(m_log->m_mutex);
    m_stopped = true;
    m_log->m_changed.notify_all();
}

size_t ContainerLogFollower::bufferedBytes() const
{
    const State &st = *m_state;
    size_t lines = 0;
    for (const auto &l : st.lines)
        lines += l.text.capacity();
    return st.cursor.bufferedBytes() + (st.assembler ? st.assembler->bufferedBytes() : 0) + lines;
}

uint64_t ContainerLogFollower::missedFiles() const { return m_state->missedFiles; }
uint64_t ContainerLogFollower::malformedRecords() const { return m_state->stats.malformedRecords; }

LogStream::Chunk ContainerLogFollower::read(Duration timeout)
{
    State &st = *m_state;
    const TimePoint deadline = m_clock.now() + timeout;
    while (true) {
        {
            std::lock_guard g(m_log->m_mutex);
            if (m_stopped)
                st.ended = true;
        }
        if (st.ended)
            return {{}, true};
        Chunk chunk;
        st.chunkBytes = 0;
        pump(chunk);
        if (!chunk.lines.empty() || chunk.ended)
            return chunk;
        std::unique_lock lock(m_log->m_mutex);
        const uint64_t seen = st.seenSeq;
        auto changed = [&] { return m_stopped || m_log->m_seq != seen; };
        if (changed())
            continue;
        if (m_clock.now() >= deadline || !m_clock.waitUntil(lock, m_log->m_changed, deadline, changed))
            return chunk;
    }
}

void ContainerLogFollower::deliver(Chunk &chunk, std::vector<LogLine> &lines)
{
    State &st = *m_state;
    for (auto &line : lines) {
        if (!st.budget.admit(line)) {
            st.ended = chunk.ended = true;
            break;
        }
        st.chunkBytes += line.text.size();
        chunk.lines.push_back(std::move(line));
        if (st.budget.exhausted()) { // kubectl's stream stops there too
            st.ended = chunk.ended = true;
            break;
        }
    }
    lines.clear();
}

// Moves the cursor to the file after the current one: from the first snapshot if it has it,
// else by name, under the writer's mutex so that no rotation renames it meanwhile.
bool ContainerLogFollower::openNext()
{
    State &st = *m_state;
    uint64_t next = st.cursor.generation() + 1;
    if (!st.queue.empty() && st.queue.front().generation == next) {
        st.cursor.reset(st.queue.front().file, next, 0);
        st.queue.pop_front();
        return true;
    }
    st.queue.clear();
    std::lock_guard g(m_log->m_mutex);
    const uint64_t current = m_log->m_generation;
    if (next > current)
        return false;
    const uint64_t kept = uint64_t(m_log->m_options.maxFiles - 1);
    const uint64_t oldest = current > kept ? current - kept : 0;
    if (next < oldest) {
        st.missedFiles += oldest - next;
        next = oldest;
    }
    st.cursor.reset(openForReading(m_log->pathFor(current - next)), next, 0);
    return true;
}

bool ContainerLogFollower::pump(Chunk &chunk)
{
    State &st = *m_state;
    if (!st.started) {
        std::vector<Segment> segments;
        {
            std::lock_guard g(m_log->m_mutex);
            segments = LogFileAccess::snapshotLocked(*m_log);
            st.seenSeq = m_log->m_seq;
        }
        const Position begin{segments.front().generation, 0};
        const Position end{segments.back().generation, segments.back().size};
        auto point = resolveStart(segments, m_options, begin, end);
        if (!point) {
            PS_LOG(Warning, "kubelet") << "following " << m_log->path() << ": " << point.error().message();
            st.ended = chunk.ended = true;
            return false;
        }
        st.assembler.emplace(point->skipBefore, m_options.since);
        for (auto &seg : segments)
            if (seg.generation >= point->start.generation)
                st.queue.push_back(std::move(seg));
        st.cursor.reset(st.queue.front().file, st.queue.front().generation,
                        st.queue.front().generation == point->start.generation ? point->start.offset : 0);
        st.queue.pop_front();
        st.started = true;
    }
    while (true) {
        uint64_t limit = 0;
        bool final = false;
        bool writerDone = false;
        {
            std::lock_guard g(m_log->m_mutex);
            st.seenSeq = m_log->m_seq;
            if (st.cursor.generation() == m_log->m_generation) {
                if (!st.cursor.hasFile()) // missing when we looked: the writer may have made it since
                    st.cursor.setFile(openForReading(m_log->m_path));
                limit = m_log->m_size;
                final = writerDone = m_log->m_closed;
            } else {
                final = true; // rotated: complete
            }
        }
        if (!writerDone && final)
            limit = fileSize(st.cursor.file());
        st.cursor.setLimit(limit, final);

        std::string_view record;
        Position pos;
        bool atEnd = false;
        while (!atEnd) {
            if (chunk.lines.size() >= kChunkLines || st.chunkBytes >= kChunkBytes)
                return true;
            switch (st.cursor.next(record, pos)) {
            case SegmentCursor::Step::NeedMore:
                return true;
            case SegmentCursor::Step::End:
                atEnd = true;
                break;
            case SegmentCursor::Step::Error:
                PS_LOG(Warning, "kubelet") << "following " << m_log->path() << ": " << errnoText(st.cursor.error());
                st.ended = chunk.ended = true;
                return false;
            case SegmentCursor::Step::Overlong:
                ++st.stats.malformedRecords;
                break;
            case SegmentCursor::Step::Truncated:
                ++st.stats.truncatedRecords;
                [[fallthrough]];
            case SegmentCursor::Step::Record: {
                Header h;
                if (!parseHeader(record, h)) {
                    ++st.stats.malformedRecords;
                    break;
                }
                st.assembler->add(h, record.substr(std::min(h.textStart, record.size())), pos, st.lines);
                deliver(chunk, st.lines);
                if (st.ended)
                    return true;
                break;
            }
            }
        }
        if (writerDone) {
            st.assembler->finish(st.lines);
            deliver(chunk, st.lines);
            st.ended = chunk.ended = true;
            return true;
        }
        if (!openNext())
            return true;
    }
}

// ---- files without a writer ---------------------------------------------------------------------

Result<std::vector<LogLine>> readContainerLogFile(const std::string &path, const LogOptions &options)
{
    LogFileReadStats stats;
    return readContainerLogFile(path, options, stats);
}

Result<std::vector<LogLine>> readContainerLogFile(const std::string &path, const LogOptions &options,
                                                  LogFileReadStats &stats)
{
    std::vector<std::shared_ptr<FileHandle>> rotated; // path.1, path.2 ... while they exist
    for (int k = 1; k <= kMaxFilesLimit; ++k) {
        auto file = openForReading(siblingPath(path, uint64_t(k)));
        if (!file)
            break;
        rotated.push_back(std::move(file));
    }
    int err = 0;
    auto current = openForReading(path, &err);
    if (!current && (err != ENOENT || rotated.empty())) {
        if (err == ENOENT)
            return fail(Reason::NotFound, "container log \"" + path + "\" does not exist");
        return fail(Reason::InternalError, "cannot open container log \"" + path + "\": " + errnoText(err));
    }
    // A writer killed between renaming `path` away and making the next one leaves only siblings.
    std::vector<Segment> segments;
    const uint64_t newest = rotated.size();
    for (size_t i = rotated.size(); i-- > 0;) {
        const uint64_t size = fileSize(rotated[i]);
        segments.push_back({newest - (i + 1), std::move(rotated[i]), size});
    }
    if (current) {
        const uint64_t size = fileSize(current);
        segments.push_back({newest, std::move(current), size});
    }
    return readSegments(segments, options, stats);
}

} // namespace podscape::core::kubelet::runtime
