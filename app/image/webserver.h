#pragma once
// The nginx image's stand-in ("web"): a static file server that logs like nginx.
//   web [--port N] [--root DIR]
// Without --root it serves a built-in welcome page at / (and /index.html) and nginx's 404 page
// elsewhere. With --root it serves DIR's files: index.html for directories, 404 for missing
// files, 400 for any ".." segment, and nothing outside DIR even through symlinks.
// One access log line per request in nginx's "combined" format; SIGTERM/SIGINT (fast) and
// SIGQUIT (graceful) print nginx's notice and exit 0.

#include <string>
#include <vector>

namespace podscape::image {

class WebServer
{
public:
    static int run(const std::vector<std::string> &args);
};

} // namespace podscape::image
