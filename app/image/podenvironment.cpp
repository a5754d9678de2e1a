#include "podenvironment.h"

#include <unistd.h>

#include <cstdlib>

namespace podscape::image {

std::string PodEnvironment::bindAddress()
{
    const char *ip = std::getenv("POD_IP");
    return ip && *ip ? std::string(ip) : std::string("0.0.0.0");
}

std::string PodEnvironment::hostname()
{
    char name[256] = {}; // HOST_NAME_MAX is 64 on Linux; room to spare and always terminated
    if (gethostname(name, sizeof name - 1) != 0)
        return "localhost";
    return name;
}

} // namespace podscape::image
