#pragma once
// One container instance's log on disk, as the kubelet keeps it under
// /var/log/pods/<ns>_<pod>_<uid>/<container>/<restartCount>.log, in the CRI log format:
//
//   2016-10-06T00:17:09.669794202Z stdout F log line text
//
// F marks a record that ends a line, P one that a longer line continues (a line over
// maxLineBytes, or a partial line written out by flush()). Readers join a stream's P records
// with its next F record back into one LogLine, which carries the time of its last record:
// lines are then ordered by when they were completed, and their times never decrease (the
// writer also never lets a record's time go back, even when the wall clock does), which is
// what lets since/tail be answered by reading the files from the end.
//
// Rotation: when the next record would take the current file over maxFileBytes, `path` is
// renamed to path.1, path.1 to path.2 ... and path.(maxFiles-1) is removed; newest first. A
// record larger than maxFileBytes gets a file of its own.
//
// Readers never see a half-written record of a live writer: they read up to the size the
// writer last committed. Files left by a killed process may end in a cut record: its text is
// kept as it is when its header is whole, and it is skipped otherwise.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/kubelet/runtime/containerruntime.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::kubelet::runtime {

struct ContainerLogFileOptions {
    uint64_t maxFileBytes = 10 * 1024 * 1024; // rotate when the current file would exceed this
    int maxFiles = 5;                         // current + rotated files kept (oldest removed)
    size_t maxLineBytes = 16 * 1024;          // longer lines are split into P ... F records
};

// What a read found besides the lines.
struct LogFileReadStats {
    uint64_t malformedRecords = 0; // skipped: no valid header, or a record over 1 MiB + a header
    uint64_t truncatedRecords = 0; // a file's last record without its newline, kept
};

// Readers return a joined line longer than this in pieces of this size, and the writer
// refuses a larger maxLineBytes: it bounds what a reader holds for one line.
inline constexpr size_t kMaxJoinedLogLineBytes = 1024 * 1024;

// One container instance's log: appends CRI-format records to `path` (rotated files are
// path.1, path.2 ... newest first). Thread-safe. Followers are woken on each append.
class ContainerLogFile : public std::enable_shared_from_this<ContainerLogFile>
{
public:
    // Creates (or truncates) `path` with mode 0640 and removes stale rotated siblings: every
    // container instance gets a path of its own from the caller. The directory must exist.
    static Result<std::shared_ptr<ContainerLogFile>> create(std::string path, ContainerLogFileOptions options = {});
    ~ContainerLogFile();
    ContainerLogFile(const ContainerLogFile &) = delete;
    ContainerLogFile &operator=(const ContainerLogFile &) = delete;

    // Raw bytes read from the container's stream: split into lines at '\n' (a trailing partial
    // line is kept until its newline arrives, flush() or close()); each line stamped with
    // `now`. "\r\n" -> line without '\r'. Write errors (disk full) are counted and the line
    // dropped, never thrown. Ignored (and counted as dropped) after close().
    void append(bool stderrStream, std::string_view bytes, Clock::TimePoint now);
    // Writes out pending partial lines as P records; the line goes on with later bytes.
    void flush(Clock::TimePoint now);
    // The instance ended: writes pending partial lines as complete lines, and followers get
    // `ended` once they read everything.
    void close(Clock::TimePoint now);
    bool closed() const;
    const std::string &path() const;
    const ContainerLogFileOptions &options() const { return m_options; }

    // Lines currently on disk (all rotated files, oldest first) filtered by since/tail/
    // limitBytes with applyLogOptions semantics; a tail is found by reading from the end.
    Result<std::vector<LogLine>> read(const LogOptions &options) const;
    Result<std::vector<LogLine>> read(const LogOptions &options, LogFileReadStats &stats) const;

    // A follower (a ContainerLogFollower): first the filtered existing lines (those on disk at
    // its first read()), then new ones as they are appended, until close(). limitBytes bounds
    // the whole stream, as kubectl's --limit-bytes does: the stream ends once it is used up.
    // `clock` must outlive it.
    std::unique_ptr<LogStream> follow(const LogOptions &options, Clock &clock);

    // Counters for the runtime's diagnostics and for tests.
    uint64_t droppedRecords() const; // records lost to write errors (or appended after close)
    uint64_t writeErrors() const;    // failed writes, failed rotations
    uint64_t rotations() const;
    size_t pendingBytes() const; // partial-line bytes held for both streams: <= 2 * (maxLineBytes + 1)

private:
    friend class ContainerLogFollower;
    friend struct LogFileAccess;
    struct Pending {
        std::string text;
        bool open = false; // the last record written for this stream was P
    };

    ContainerLogFile(std::string path, ContainerLogFileOptions options, int fd);
    void addText(bool stderrStream, std::string_view text, Clock::TimePoint now);
    void addRecord(bool stderrStream, bool partial, std::string_view text, Clock::TimePoint now);
    void writeBatch();
    void rotate();
    std::string pathFor(uint64_t suffix) const;
    Clock::TimePoint stamp(Clock::TimePoint now);

    const std::string m_path;
    const ContainerLogFileOptions m_options;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    int m_fd = -1;
    uint64_t m_size = 0;       // committed bytes of the current file
    uint64_t m_generation = 0; // files created so far - 1: the current file's generation
    uint64_t m_seq = 0;        // bumped on every commit, rotation and close: what followers wait on
    bool m_closed = false;
    bool m_garbage = false; // a failed write left bytes past m_size that could not be cut off
    Pending m_pending[2];
    Clock::TimePoint m_lastTime{};
    std::string m_batch; // formatted records not yet written (bounded: written at 256 KiB)
    uint64_t m_batchRecords = 0;
    int64_t m_cachedSecond = INT64_MIN; // the formatted "YYYY-MM-DDTHH:MM:SS" of that second
    std::string m_cachedPrefix;
    uint64_t m_droppedRecords = 0;
    uint64_t m_writeErrors = 0;
    uint64_t m_rotations = 0;
};

// The LogStream that ContainerLogFile::follow() returns. It reads from the files, not from a
// queue the writer fills, so a follower that never reads costs the writer nothing; one that
// falls behind by more than the rotated files kept loses the files removed meanwhile
// (missedFiles()), as with the kubelet. Each read() returns at most ~1 MiB or 4096 lines.
// A partial line is returned once it completes (or the instance ended). read() and the
// accessors belong to one reading thread; close() may come from any thread.
class ContainerLogFollower final : public LogStream
{
public:
    ContainerLogFollower(std::shared_ptr<ContainerLogFile> log, LogOptions options, Clock &clock);
    ~ContainerLogFollower() override;

    Chunk read(Duration timeout) override;
    void close() override;

    size_t bufferedBytes() const;   // read buffer + partial lines held: bounded, whatever is written
    uint64_t missedFiles() const;   // rotated files removed before this follower got to them
    uint64_t malformedRecords() const;

private:
    struct State;
    bool pump(Chunk &chunk);
    bool openNext();
    void deliver(Chunk &chunk, std::vector<LogLine> &lines);

    std::shared_ptr<ContainerLogFile> m_log;
    Clock &m_clock;
    LogOptions m_options;
    bool m_stopped = false; // guarded by m_log->m_mutex: close() wakes a waiting read()
    std::unique_ptr<State> m_state;
};

// Reads a log file left by an earlier process (after an engine restart: no writer exists),
// with rotated siblings; same filtering. NotFound error when the file does not exist.
Result<std::vector<LogLine>> readContainerLogFile(const std::string &path, const LogOptions &options);
Result<std::vector<LogLine>> readContainerLogFile(const std::string &path, const LogOptions &options,
                                                  LogFileReadStats &stats);

} // namespace podscape::core::kubelet::runtime
