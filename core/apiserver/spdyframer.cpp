#include "spdyframer.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace podscape::core::apiserver {

namespace {

constexpr uint16_t kVersion = 3;
constexpr size_t kHeaderSize = 8;
constexpr size_t kMaxPayload = 0xFFFFFF;

uint32_t get32(std::string_view s, size_t at)
{
    return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 | uint32_t(uint8_t(s[at + 2])) << 8
           | uint32_t(uint8_t(s[at + 3]));
}

void put32(std::string &out, uint32_t v)
{
    out.push_back(char(v >> 24));
    out.push_back(char(v >> 16));
    out.push_back(char(v >> 8));
    out.push_back(char(v));
}

// flags in the top byte, length in the low three.
void putFlagsLength(std::string &out, uint8_t flags, size_t length)
{
    put32(out, uint32_t(flags) << 24 | uint32_t(length & kMaxPayload));
}

std::string controlFrame(uint16_t type, uint8_t flags, std::string_view payload)
{
    std::string out;
    out.reserve(kHeaderSize + payload.size());
    put32(out, 0x80000000u | uint32_t(kVersion) << 16 | type);
    putFlagsLength(out, flags, payload.size());
    out.append(payload);
    return out;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b)
{
    return a.size() == b.size()
           && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

} // namespace

std::string SpdyFrame::header(std::string_view name) const
{
    for (const auto &[k, v] : headers)
        if (equalsIgnoringCase(k, name))
            return v;
    return {};
}

const std::string &SpdyFramer::dictionary()
{
    // Built as the spec lays it out: length-prefixed header names and values, then a run of
    // status codes, phrases and common values.
    static const std::string dict = [] {
        static const char *const words[] = {
            "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
            "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
            "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
            "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
            "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
            "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
            "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
            "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
            "set-cookie", "keep-alive", "origin"};
        std::string d;
        for (const char *w : words) {
            put32(d, uint32_t(std::strlen(w)));
            d += w;
        }
        d += "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
             "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
             "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
             "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
             "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
             "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
        return d;
    }();
    return dict;
}

struct SpdyFramer::Zlib {
    z_stream in{};
    z_stream out{};
    bool inOk = false, outOk = false;
    Zlib()
    {
        inOk = inflateInit(&in) == Z_OK;
        outOk = deflateInit(&out, Z_DEFAULT_COMPRESSION) == Z_OK
                && deflateSetDictionary(&out, reinterpret_cast<const Bytef *>(dictionary().data()),
                                        uInt(dictionary().size()))
                       == Z_OK;
    }
    ~Zlib()
    {
        inflateEnd(&in);
        deflateEnd(&out);
    }
};

SpdyFramer::SpdyFramer() : m_zlib(std::make_unique<Zlib>()) {}
SpdyFramer::~SpdyFramer() = default;

Result<std::vector<SpdyFrame>> SpdyFramer::feed(std::string_view bytes)
{
    m_buffer.append(bytes);
    std::vector<SpdyFrame> frames;
    size_t at = 0;
    while (m_buffer.size() - at >= kHeaderSize) {
        const std::string_view head(m_buffer.data() + at, kHeaderSize);
        const uint32_t word = get32(head, 0);
        const uint32_t flagsLength = get32(head, 4);
        const size_t length = flagsLength & kMaxPayload;
        if (length > kMaxFrame)
            return fail(Reason::BadRequest, "SPDY frame of " + std::to_string(length) + " bytes; this server accepts up to "
                                                + std::to_string(kMaxFrame));
        if (m_buffer.size() - at - kHeaderSize < length)
            break;
        const std::string_view payload(m_buffer.data() + at + kHeaderSize, length);
        const uint8_t flags = uint8_t(flagsLength >> 24);
        at += kHeaderSize + length;
        if (word & 0x80000000u) {
            const uint16_t version = uint16_t((word >> 16) & 0x7FFF);
            if (version != kVersion)
                return fail(Reason::BadRequest, "SPDY control frame of version " + std::to_string(version) + "; only 3 is spoken");
            auto frame = decodeControl(uint16_t(word & 0xFFFF), flags, payload);
            if (!frame)
                return frame.takeError();
            frames.push_back(std::move(*frame));
        } else {
            SpdyFrame f;
            f.type = SpdyFrame::Data;
            f.flags = flags;
            f.streamId = word & 0x7FFFFFFF;
            f.data.assign(payload);
            frames.push_back(std::move(f));
        }
    }
    m_buffer.erase(0, at);
    return frames;
}

Result<SpdyFrame> SpdyFramer::decodeControl(uint16_t type, uint8_t flags, std::string_view payload)
{
    SpdyFrame f;
    f.type = type;
    f.flags = flags;
    auto need = [&](size_t n) -> Result<void> {
        if (payload.size() < n)
            return fail(Reason::BadRequest, "SPDY control frame of type " + std::to_string(type) + " is too short ("
                                                + std::to_string(payload.size()) + " bytes)");
        return {};
    };
    switch (type) {
    case SpdyFrame::SynStream: {
        if (auto r = need(10); !r)
            return r.takeError();
        f.streamId = get32(payload, 0) & 0x7FFFFFFF;
        auto headers = inflateHeaders(payload.substr(10));
        if (!headers)
            return headers.takeError();
        f.headers = std::move(*headers);
        break;
    }
    case SpdyFrame::SynReply:
    case SpdyFrame::Headers: {
        if (auto r = need(4); !r)
            return r.takeError();
        f.streamId = get32(payload, 0) & 0x7FFFFFFF;
        auto headers = inflateHeaders(payload.substr(4));
        if (!headers)
            return headers.takeError();
        f.headers = std::move(*headers);
        break;
    }
    case SpdyFrame::RstStream:
    case SpdyFrame::WindowUpdate:
    case SpdyFrame::GoAway:
        if (auto r = need(8); !r)
            return r.takeError();
        f.streamId = get32(payload, 0) & 0x7FFFFFFF;
        f.value = get32(payload, 4) & (type == SpdyFrame::WindowUpdate ? 0x7FFFFFFF : 0xFFFFFFFF);
        break;
    case SpdyFrame::Ping:
        if (auto r = need(4); !r)
            return r.takeError();
        f.value = get32(payload, 0);
        break;
    default:
        // SETTINGS and types this end does not act on are read and passed up as such.
        f.data.assign(payload);
        break;
    }
    return f;
}

Result<std::vector<std::pair<std::string, std::string>>> SpdyFramer::inflateHeaders(std::string_view block)
{
    if (!m_zlib->inOk)
        return fail(Reason::InternalError, "zlib inflate could not be initialised");
    z_stream &z = m_zlib->in;
    std::string plain;
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(block.data()));
    z.avail_in = uInt(block.size());
    char chunk[4096];
    while (z.avail_in > 0) {
        z.next_out = reinterpret_cast<Bytef *>(chunk);
        z.avail_out = sizeof chunk;
        int rc = inflate(&z, Z_SYNC_FLUSH);
        if (rc == Z_NEED_DICT) {
            if (inflateSetDictionary(&z, reinterpret_cast<const Bytef *>(dictionary().data()), uInt(dictionary().size()))
                != Z_OK)
                return fail(Reason::BadRequest, "SPDY header block was compressed with another dictionary than SPDY/3's");
            continue;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return fail(Reason::BadRequest, std::string("SPDY header block does not decompress: ") + (z.msg ? z.msg : "zlib error"));
        plain.append(chunk, sizeof chunk - z.avail_out);
        if (plain.size() > kMaxHeaderBlock)
            return fail(Reason::BadRequest, "SPDY header block is larger than " + std::to_string(kMaxHeaderBlock) + " bytes");
        if (rc == Z_BUF_ERROR && z.avail_out != 0)
            break; // no progress possible: the block is cut short
    }
    std::vector<std::pair<std::string, std::string>> headers;
    auto bad = [] { return fail(Reason::BadRequest, "SPDY header block is malformed (a length runs past its end)"); };
    if (plain.size() < 4)
        return bad();
    const uint32_t count = get32(plain, 0);
    size_t at = 4;
    for (uint32_t i = 0; i < count; ++i) {
        std::string parts[2];
        for (auto &part : parts) {
            if (plain.size() - at < 4)
                return bad();
            const uint32_t n = get32(plain, at);
            at += 4;
            if (plain.size() - at < n)
                return bad();
            part.assign(plain, at, n);
            at += n;
        }
        headers.emplace_back(std::move(parts[0]), std::move(parts[1]));
    }
    return headers;
}

std::string SpdyFramer::deflateHeaders(const std::vector<std::pair<std::string, std::string>> &headers)
{
    std::string plain;
    put32(plain, uint32_t(headers.size()));
    for (const auto &[k, v] : headers) {
        put32(plain, uint32_t(k.size()));
        for (char c : k)
            plain.push_back(char(std::tolower(c))); // SPDY header names are lower case
        put32(plain, uint32_t(v.size()));
        plain += v;
    }
    z_stream &z = m_zlib->out;
    std::string out;
    z.next_in = reinterpret_cast<Bytef *>(plain.data());
    z.avail_in = uInt(plain.size());
    char chunk[4096];
    do {
        z.next_out = reinterpret_cast<Bytef *>(chunk);
        z.avail_out = sizeof chunk;
        deflate(&z, Z_SYNC_FLUSH);
        out.append(chunk, sizeof chunk - z.avail_out);
    } while (z.avail_out == 0);
    return out;
}

std::string SpdyFramer::synStream(uint32_t streamId, const std::vector<std::pair<std::string, std::string>> &headers, bool fin)
{
    std::string payload;
    put32(payload, streamId & 0x7FFFFFFF);
    put32(payload, 0); // associated stream
    payload.push_back(0); // priority
    payload.push_back(0); // slot
    payload += deflateHeaders(headers);
    return controlFrame(SpdyFrame::SynStream, fin ? SpdyFrame::kFin : 0, payload);
}

std::string SpdyFramer::synReply(uint32_t streamId, const std::vector<std::pair<std::string, std::string>> &headers, bool fin)
{
    std::string payload;
    put32(payload, streamId & 0x7FFFFFFF);
    payload += deflateHeaders(headers);
    return controlFrame(SpdyFrame::SynReply, fin ? SpdyFrame::kFin : 0, payload);
}

std::string SpdyFramer::data(uint32_t streamId, std::string_view payload, bool fin)
{
    std::string out;
    out.reserve(kHeaderSize + payload.size());
    put32(out, streamId & 0x7FFFFFFF);
    putFlagsLength(out, fin ? SpdyFrame::kFin : 0, payload.size());
    out.append(payload);
    return out;
}

std::string SpdyFramer::rstStream(uint32_t streamId, uint32_t status)
{
    std::string payload;
    put32(payload, streamId & 0x7FFFFFFF);
    put32(payload, status);
    return controlFrame(SpdyFrame::RstStream, 0, payload);
}

std::string SpdyFramer::ping(uint32_t id)
{
    std::string payload;
    put32(payload, id);
    return controlFrame(SpdyFrame::Ping, 0, payload);
}

std::string SpdyFramer::goAway(uint32_t lastGoodStreamId, uint32_t status)
{
    std::string payload;
    put32(payload, lastGoodStreamId & 0x7FFFFFFF);
    put32(payload, status);
    return controlFrame(SpdyFrame::GoAway, 0, payload);
}

} // namespace podscape::core::apiserver
