#pragma once
// Shared by the end-to-end suites: a free loopback port for the agent, and what a kubectl run
// printed.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace podscape::tests {

// A port nobody listens on now (the kernel's choice for an ephemeral bind).
inline int freePort()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

struct Run {
    int code = -1;
    std::string out, err;
    bool has(const std::string &text) const
    {
        return out.find(text) != std::string::npos || err.find(text) != std::string::npos;
    }
};

} // namespace podscape::tests
