#pragma once
// SPDY/3.1 framing, as much of it as Kubernetes' streams use: kubectl port-forward (and exec
// before 1.30) multiplexes its streams with SPDY, since 1.31 carried inside a WebSocket.
//
// Frames are read from a byte stream cut anywhere (WebSocket messages do not follow frame
// boundaries). Header blocks are zlib-compressed with the spec's dictionary, one compression
// context per direction for the whole connection: a framer is one end of one connection.

#include "core/base/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podscape::core::apiserver {

struct SpdyFrame {
    enum Type : uint16_t {
        Data = 0, // not a control type: a data frame
        SynStream = 1,
        SynReply = 2,
        RstStream = 3,
        Settings = 4,
        Ping = 6,
        GoAway = 7,
        Headers = 8,
        WindowUpdate = 9,
    };
    static constexpr uint8_t kFin = 0x01;
    // RST_STREAM status codes used here.
    static constexpr uint32_t kProtocolError = 1, kRefusedStream = 3, kCancel = 5, kInternalError = 6;

    uint16_t type = Data;
    uint8_t flags = 0;
    uint32_t streamId = 0; // data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
    std::string data;      // a data frame's payload
    std::vector<std::pair<std::string, std::string>> headers; // decoded header block
    uint32_t value = 0; // RST_STREAM and GOAWAY status, PING id, WINDOW_UPDATE delta

    bool fin() const { return flags & kFin; }
    // A header's value by name, case-insensitively; empty when absent.
    std::string header(std::string_view name) const;
};

class SpdyFramer
{
public:
    SpdyFramer();
    ~SpdyFramer();
    SpdyFramer(const SpdyFramer &) = delete;
    SpdyFramer &operator=(const SpdyFramer &) = delete;

    // Appends bytes from the peer and returns the frames they complete. An error is a
    // protocol violation after which the connection cannot continue.
    Result<std::vector<SpdyFrame>> feed(std::string_view bytes);

    // Frames to send. Header frames use this end's compression context, so they must be
    // sent in the order they were made.
    std::string synStream(uint32_t streamId, const std::vector<std::pair<std::string, std::string>> &headers, bool fin);
    std::string synReply(uint32_t streamId, const std::vector<std::pair<std::string, std::string>> &headers, bool fin);
    static std::string data(uint32_t streamId, std::string_view payload, bool fin);
    static std::string rstStream(uint32_t streamId, uint32_t status);
    static std::string ping(uint32_t id);
    static std::string goAway(uint32_t lastGoodStreamId, uint32_t status);

    // The header-compression dictionary of SPDY/3 (1423 bytes).
    static const std::string &dictionary();

    static constexpr size_t kMaxHeaderBlock = 256 * 1024; // decompressed; more is refused
    static constexpr size_t kMaxFrame = 1024 * 1024;      // kubectl's frames carry at most 32 KiB

private:
    Result<SpdyFrame> decodeControl(uint16_t type, uint8_t flags, std::string_view payload);
    Result<std::vector<std::pair<std::string, std::string>>> inflateHeaders(std::string_view block);
    std::string deflateHeaders(const std::vector<std::pair<std::string, std::string>> &headers);

    struct Zlib;
    std::unique_ptr<Zlib> m_zlib;
    std::string m_buffer;
};

} // namespace podscape::core::apiserver
