#pragma once
// SIGTERM/SIGQUIT/SIGINT handled by waiting, not by a handler: block() must run in main()
// before any thread starts (threads inherit the mask, so no thread is interrupted), then
// wait() returns the signal that arrived. Only programs whose image handles signals use this;
// kubia deliberately does not (node as PID 1 ignores SIGTERM and is killed after the grace
// period, which is what the book demonstrates).

namespace podscape::image {

class ShutdownSignals
{
public:
    static void block();
    static int wait();
    // "SIGTERM", "SIGQUIT", ...
    static const char *name(int signal);
};

} // namespace podscape::image
