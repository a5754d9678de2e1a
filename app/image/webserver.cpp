#include "webserver.h"

#include "console.h"
#include "flagparser.h"
#include "httpserver.h"
#include "podenvironment.h"
#include "shutdownsignals.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

namespace podscape::image {

namespace {

constexpr const char *kNginx = "nginx/1.25.3";

const char *kWelcomePage = R"(<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. This is Podscape's nginx stand-in: the image "nginx" runs Podscape's
built-in static web server in this pod.</p>

<p>Start it with <code>--root DIR</code> to serve files from a directory.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
)";

std::string errorPage(int status, const std::string &reason)
{
    std::string title = std::to_string(status) + " " + reason;
    return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title
           + "</h1></center>\r\n<hr><center>" + kNginx + "</center>\r\n</body>\r\n</html>\r\n";
}

HttpResponse errorResponse(int status, const std::string &reason)
{
    return HttpResponse{status, {{"Content-Type", "text/html"}}, errorPage(status, reason), {}};
}

std::string formatTime(const char *format)
{
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[64];
    std::strftime(text, sizeof text, format, &tm);
    return text;
}

// nginx's error-log prefix: "2026/11/27 10:00:00 [notice] 1#1: ".
void notice(const std::string &text)
{
    Console::out(formatTime("%Y/%m/%d %H:%M:%S") + " [notice] 1#1: " + text);
}

// nginx writes bytes outside printable ASCII, '"' and '\' in log fields as \xHH.
std::string escapeLogField(const std::string &text)
{
    if (text.empty())
        return "-";
    std::string out;
    for (unsigned char c : text) {
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The request path without query, percent-decoded; false for a malformed one.
bool decodePath(const std::string &target, std::string &path)
{
    std::string raw = target.substr(0, target.find_first_of("?#"));
    if (raw.empty() || raw[0] != '/')
        return false;
    path.clear();
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '%') {
            path += raw[i];
            continue;
        }
        if (i + 2 >= raw.size() || hexValue(raw[i + 1]) < 0 || hexValue(raw[i + 2]) < 0)
            return false;
        char c = static_cast<char>(hexValue(raw[i + 1]) * 16 + hexValue(raw[i + 2]));
        if (c == '\0')
            return false;
        path += c;
        i += 2;
    }
    return true;
}

bool hasDotDotSegment(const std::string &path)
{
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos)
            end = path.size();
        if (path.compare(start, end - start, "..") == 0 && end - start == 2)
            return true;
        start = end + 1;
    }
    return false;
}

std::string contentType(const std::string &path)
{
    static const std::pair<const char *, const char *> types[] = {
        {".html", "text/html"}, {".htm", "text/html"},         {".css", "text/css"},
        {".js", "application/javascript"}, {".json", "application/json"}, {".txt", "text/plain"},
        {".svg", "image/svg+xml"}, {".png", "image/png"},     {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"}, {".gif", "image/gif"},       {".ico", "image/x-icon"},
        {".xml", "text/xml"},    {".wasm", "application/wasm"}, {".pdf", "application/pdf"},
    };
    auto dot = path.rfind('.');
    if (dot != std::string::npos && path.find('/', dot) == std::string::npos) {
        std::string ext = path.substr(dot);
        for (auto &[suffix, type] : types)
            if (ext == suffix)
                return type;
    }
    return "application/octet-stream";
}

class StaticSite
{
public:
    explicit StaticSite(const std::string &root)
        : m_root(root == "/" ? std::string() : root)
        , m_builtin(root.empty())
    {
    }

    HttpResponse handle(const HttpRequest &request) const
    {
        if (request.method != "GET" && request.method != "HEAD")
            return errorResponse(405, "Not Allowed");
        std::string path;
        if (!decodePath(request.target, path) || hasDotDotSegment(path))
            return errorResponse(400, "Bad Request");
        if (m_builtin) {
            if (path == "/" || path == "/index.html")
                return HttpResponse{200, {{"Content-Type", "text/html"}}, kWelcomePage, {}};
            return errorResponse(404, "Not Found");
        }

        std::string file = m_root + path;
        struct stat st{};
        if (::stat(file.c_str(), &st) != 0)
            return errorResponse(404, "Not Found");
        if (S_ISDIR(st.st_mode)) {
            if (path.back() != '/') { // nginx sends directories without the slash to the slash
                auto response = errorResponse(301, "Moved Permanently");
                response.headers.emplace_back("Location", path + "/");
                return response;
            }
            file += "index.html";
            if (::stat(file.c_str(), &st) != 0)
                return errorResponse(403, "Forbidden"); // no index and no autoindex
        }
        if (!S_ISREG(st.st_mode))
            return errorResponse(404, "Not Found");
        // A symlink inside the root may point anywhere; only what resolves inside is served.
        char resolved[PATH_MAX];
        if (!::realpath(file.c_str(), resolved) || std::string(resolved).rfind(m_root + "/", 0) != 0)
            return errorResponse(404, "Not Found");
        return HttpResponse{200, {{"Content-Type", contentType(file)}}, {}, resolved};
    }

private:
    std::string m_root; // canonical, without a trailing slash ("" for "/")
    bool m_builtin;     // no --root: the built-in welcome page
};

} // namespace

int WebServer::run(const std::vector<std::string> &args)
{
    FlagParser flags({"port", "root"});
    std::string error;
    int port = 80;
    if (!flags.parse(args, error) || !flags.number("port", 1, 65535, 80, port, error)) {
        Console::err("web: " + error + " (usage: web [--port N] [--root DIR])");
        return 2;
    }
    std::string root;
    if (auto dir = flags.value("root")) {
        char resolved[PATH_MAX];
        struct stat st{};
        if (!::realpath(dir->c_str(), resolved) || ::stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
            Console::err("web: --root " + *dir + ": not a directory");
            return 1;
        }
        root = resolved;
    }

    // Signals are taken by sigwait() below; block them before any thread exists.
    ShutdownSignals::block();

    Console::out("/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration");
    Console::out("/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/");
    Console::out("/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh");
    Console::out("/docker-entrypoint.sh: Configuration complete; ready for start up");

    StaticSite site(root);
    HttpServer server;
    server.setServerName(kNginx);
    server.setHandler([&site](const HttpRequest &request) { return site.handle(request); });
    server.setAccessLog([](const HttpExchange &x) {
        const HttpRequest &r = x.request;
        Console::out(r.clientAddress + " - - [" + formatTime("%d/%b/%Y:%H:%M:%S +0000") + "] \""
                     + escapeLogField(r.method + " " + r.target + " " + r.version) + "\" " + std::to_string(x.status)
                     + " " + std::to_string(x.bodyBytes) + " \"" + escapeLogField(r.referer) + "\" \""
                     + escapeLogField(r.userAgent) + "\"");
    });
    if (!server.listen(PodEnvironment::bindAddress(), static_cast<uint16_t>(port), error)) {
        Console::err(formatTime("%Y/%m/%d %H:%M:%S") + " [emerg] 1#1: " + error);
        return 1;
    }
    notice("using the \"epoll\" event method");
    notice(std::string(kNginx) + " (Podscape stand-in)");
    notice("start worker processes");

    std::thread([&server] { server.run(); }).detach();
    int signal = ShutdownSignals::wait();
    if (signal == SIGQUIT) {
        notice("signal 3 (SIGQUIT) received, shutting down");
        notice("gracefully shutting down");
    } else {
        notice("signal " + std::to_string(signal) + " (" + ShutdownSignals::name(signal) + ") received, exiting");
    }
    notice("exit");
    // Connection threads still use `server`: end the process here rather than unwind under them.
    std::_Exit(0);
}

} // namespace podscape::image
