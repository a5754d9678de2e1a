#pragma once
// hashicorp/http-echo: answers every path with a fixed text.
//   http-echo -text=TEXT [-listen=:5678] [-status-code=200]
// The host part of -listen is ignored: the program binds POD_IP. /health answers
// {"status":"ok"} as the real one does. Without -text (and without ECHO_TEXT in the
// environment) it prints "Error: missing -text option" and exits 127, like the original.
// Logs like Go's log package; SIGTERM/SIGINT exit 0.

#include <string>
#include <vector>

namespace podscape::image {

class HttpEcho
{
public:
    static int run(const std::vector<std::string> &args);
};

} // namespace podscape::image
