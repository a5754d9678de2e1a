#include "shutdownsignals.h"

#include <pthread.h>
#include <signal.h>

namespace podscape::image {

namespace {
sigset_t shutdownSet()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGINT);
    return set;
}
} // namespace

void ShutdownSignals::block()
{
    sigset_t set = shutdownSet();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int ShutdownSignals::wait()
{
    sigset_t set = shutdownSet();
    int signal = 0;
    while (sigwait(&set, &signal) != 0) {
    }
    return signal;
}

const char *ShutdownSignals::name(int signal)
{
    switch (signal) {
    case SIGTERM:
        return "SIGTERM";
    case SIGQUIT:
        return "SIGQUIT";
    case SIGINT:
        return "SIGINT";
    default:
        return "signal";
    }
}

} // namespace podscape::image
