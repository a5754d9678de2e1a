#include "serviceproxy.h"

#include "core/base/logger.h"
#include "endpointpicker.h"
#include "proxyconnection.h"
#include "core/model/jsonmember.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

namespace podscape::core::proxy {

namespace net = boost::asio;
using boost::system::error_code;
using nlohmann::json;
using tcp = net::ip::tcp;

namespace {

constexpr int kDefaultAffinitySeconds = 10800; // Kubernetes' default
constexpr int kMaxAffinitySeconds = 86400;     // Kubernetes' validation limit
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

using model::member;

std::string stringOf(const json &o, const char *name, std::string fallback = {})
{
    const json &v = member(o, name);
    return v.is_string() ? v.get<std::string>() : fallback;
}

std::optional<uint16_t> portOf(const json &o, const char *name)
{
    const json &v = member(o, name);
    if (!v.is_number_integer())
        return std::nullopt;
    const int64_t n = v.get<int64_t>();
    if (n < 1 || n > 65535)
        return std::nullopt;
    return static_cast<uint16_t>(n);
}

bool isLoopbackV4(const net::ip::address &a) { return a.is_v4() && (a.to_v4().to_uint() >> 24) == 127; }

std::string endpointString(const tcp::endpoint &e) { return e.address().to_string() + ":" + std::to_string(e.port()); }

// The ready backends of one Service port: in each subset, the port named like the Service
// port (a single unnamed Service port also takes a subset's only port, whatever its name).
std::vector<Backend> backendsFor(const json *endpoints, const std::string &portName, bool singleUnnamed)
{
    std::vector<Backend> out;
    if (!endpoints)
        return out;
    const json &subsets = member(*endpoints, "subsets");
    if (!subsets.is_array())
        return out;
    for (const auto &subset : subsets) {
        const json &ports = member(subset, "ports");
        if (!ports.is_array())
            continue;
        std::optional<uint16_t> port;
        for (const auto &p : ports)
            if (stringOf(p, "name") == portName && stringOf(p, "protocol", "TCP") == "TCP" && (port = portOf(p, "port")))
                break;
        if (!port && singleUnnamed && ports.size() == 1 && stringOf(ports[0], "protocol", "TCP") == "TCP")
            port = portOf(ports[0], "port");
        if (!port)
            continue;
        const json &addresses = member(subset, "addresses"); // never notReadyAddresses
        if (!addresses.is_array())
            continue;
        for (const auto &a : addresses) {
            error_code ec;
            const auto ip = net::ip::make_address(stringOf(a, "ip"), ec);
            if (!ec)
                out.push_back(Backend{ip.to_string(), *port});
        }
    }
    return out;
}

// What one Service port should look like.
struct PortPlan {
    std::string id; // name + "/" + port
    std::string name;
    int port = 0;
    std::vector<Backend> backends;
    EndpointPicker::Options picker;
    struct Listen {
        std::string kind; // ClusterIP, NodePort
        tcp::endpoint endpoint;
        std::string address; // as shown
        std::string fixedError; // set: this address is never listened on
    };
    std::vector<Listen> listens;
};

std::vector<PortPlan> planFor(const json *service, const json *endpoints, const std::vector<net::ip::address> &nodes)
{
    std::vector<PortPlan> plans;
    if (!service)
        return plans;
    const json &spec = member(*service, "spec");
    const std::string type = stringOf(spec, "type", "ClusterIP");
    const std::string clusterIPText = stringOf(spec, "clusterIP");
    if (type == "ExternalName" || clusterIPText.empty() || clusterIPText == "None")
        return plans;
    error_code ec;
    const auto clusterIP = net::ip::make_address(clusterIPText, ec);
    std::string clusterIPError;
    if (ec || !isLoopbackV4(clusterIP))
        clusterIPError = "cluster IP " + clusterIPText + " is not in 127.0.0.0/8: not proxied";
    const bool nodePorts = type == "NodePort" || type == "LoadBalancer";

    EndpointPicker::Options picker;
    picker.clientIPAffinity = stringOf(spec, "sessionAffinity") == "ClientIP";
    if (picker.clientIPAffinity) {
        const json &timeout = member(member(member(spec, "sessionAffinityConfig"), "clientIP"), "timeoutSeconds");
        int64_t seconds = timeout.is_number_integer() ? timeout.get<int64_t>() : kDefaultAffinitySeconds;
        picker.affinityTimeout = std::chrono::seconds(std::clamp<int64_t>(seconds, 1, kMaxAffinitySeconds));
    }

    const json &ports = member(spec, "ports");
    if (!ports.is_array())
        return plans;
    const bool singleUnnamed = ports.size() == 1 && stringOf(ports[0], "name").empty();
    for (const auto &p : ports) {
        // UDP and SCTP are not proxied (see the header).
        if (stringOf(p, "protocol", "TCP") != "TCP")
            continue;
        const auto port = portOf(p, "port");
        if (!port)
            continue;
        PortPlan plan;
        plan.name = stringOf(p, "name");
        plan.port = *port;
        plan.id = plan.name + "/" + std::to_string(*port);
        plan.backends = backendsFor(endpoints, plan.name, singleUnnamed);
        plan.picker = picker;
        PortPlan::Listen cluster{"ClusterIP", {}, clusterIPText + ":" + std::to_string(*port), clusterIPError};
        if (clusterIPError.empty())
            cluster.endpoint = tcp::endpoint(clusterIP, *port);
        plan.listens.push_back(std::move(cluster));
        if (nodePorts) {
            if (const auto nodePort = portOf(p, "nodePort"))
                for (const auto &node : nodes)
                    plan.listens.push_back({"NodePort", tcp::endpoint(node, *nodePort), endpointString(tcp::endpoint(node, *nodePort)), {}});
        }
        plans.push_back(std::move(plan));
    }
    return plans;
}

// A bare EACCES does not say what to do about it.
std::string privilegedPortHint(uint16_t port)
{
    int start = 1024;
    std::ifstream("/proc/sys/net/ipv4/ip_unprivileged_port_start") >> start;
    if (port >= start)
        return {};
    return " (ports below " + std::to_string(start) + " need privilege on this host: allow them with `sudo sysctl "
         + "net.ipv4.ip_unprivileged_port_start=" + std::to_string(port) + "`)";
}

bool isResourceShortage(const error_code &ec)
{
    return ec == net::error::no_descriptors || ec == net::error::no_buffer_space || ec == net::error::no_memory
        || ec == boost::system::errc::too_many_files_open_in_system;
}

} // namespace

struct ServiceProxy::Impl {
    // Shared by the listeners of one Service port (ClusterIP and NodePorts pick alike).
    struct PortState {
        EndpointPicker picker;
    };
    struct Listener {
        ProxyRule rule; // the fixed parts; the rest is filled in by rules()
        tcp::endpoint endpoint;
        std::string fixedError;
        std::shared_ptr<PortState> port;
        std::shared_ptr<tcp::acceptor> acceptor; // null while closed
        std::string lastError;
        bool acceptFailing = false; // on the control context only
        std::shared_ptr<ProxyConnection::Counters> counters = std::make_shared<ProxyConnection::Counters>();
    };
    struct ServiceEntry {
        std::map<std::string, std::shared_ptr<PortState>> ports;        // by PortPlan::id
        std::map<std::string, std::shared_ptr<Listener>> listeners;     // by kind|address|port id
    };
    // What the informers' handlers hold: cleared when the proxy goes, so a late event is dropped.
    struct HandlerLink {
        std::mutex mutex;
        Impl *impl = nullptr;
    };

    Impl(controllers::SharedInformers &informers, ServiceProxyOptions o)
        : services(informers.forResource("services"))
        , endpoints(informers.forResource("endpoints"))
        , clock(informers.clock())
        , options(std::move(o))
        , ios(makeContexts(options.ioThreads))
        , control(ios[0]->get_executor())
        , retryTimer(control)
    {
        link->impl = this;
    }

    // One single-threaded context per I/O thread (a loop per thread): a connection stays on
    // one thread, so its handlers run where epoll woke up, with no hand-off or locking.
    static std::vector<std::unique_ptr<net::io_context>> makeContexts(int n)
    {
        std::vector<std::unique_ptr<net::io_context>> out;
        for (int i = 0; i < std::clamp(n, 1, 64); ++i)
            out.push_back(std::make_unique<net::io_context>(1));
        return out;
    }
    net::io_context &nextContext() { return *ios[nextIo++ % ios.size()]; }

    void enqueue(std::string key);
    void drain();
    void sync(const std::string &key);
    void reconcileLocked(const std::shared_ptr<Listener> &l);
    bool openLocked(const std::shared_ptr<Listener> &l);
    void closeLocked(Listener &l);
    void accept(std::shared_ptr<Listener> l, std::shared_ptr<tcp::acceptor> a);
    void onAccepted(const std::shared_ptr<Listener> &l, tcp::socket socket);
    void scheduleRetry();

    cache::Informer &services;
    cache::Informer &endpoints;
    Clock &clock;
    ServiceProxyOptions options;
    std::vector<net::ip::address> nodeAddresses;

    // Declared before everything holding I/O objects, so that those go first.
    std::vector<std::unique_ptr<net::io_context>> ios;
    net::io_context::executor_type control; // syncs, acceptors, pickers: the first context
    std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    size_t nextIo = 0; // on the control context only
    net::steady_timer retryTimer;
    std::shared_ptr<ProxyConnection::Registry> registry = std::make_shared<ProxyConnection::Registry>();
    std::shared_ptr<HandlerLink> link = std::make_shared<HandlerLink>();
    std::atomic<uint64_t> rejected{0};
    std::mutex lifecycleMutex; // serialises start() and stop()

    // Written on the control context; rules() reads from anywhere.
    mutable std::mutex mutex;
    bool running = false;
    bool drainPosted = false;
    std::set<std::string> dirty; // Service keys to sync (bounded by the Services there are)
    std::map<std::string, ServiceEntry> entries;
};

void ServiceProxy::Impl::enqueue(std::string key)
{
    std::lock_guard lock(mutex);
    dirty.insert(std::move(key));
    if (running && !drainPosted) {
        drainPosted = true;
        net::post(control, [this] { drain(); });
    }
}

void ServiceProxy::Impl::drain()
{
    std::set<std::string> keys;
    {
        std::lock_guard lock(mutex);
        drainPosted = false;
        if (!running)
            return; // the keys wait for start()
        keys.swap(dirty);
    }
    for (const auto &key : keys)
        sync(key);
}

void ServiceProxy::Impl::sync(const std::string &key)
{
    // Level-triggered: whatever the event was, the caches say what to serve now.
    const cache::ObjectPtr service = services.indexer().get(key);
    const cache::ObjectPtr eps = endpoints.indexer().get(key);
    std::vector<PortPlan> plans = planFor(service.get(), eps.get(), nodeAddresses);

    std::lock_guard lock(mutex);
    if (!running)
        return;
    ServiceEntry &entry = entries[key];
    ServiceEntry next;
    const auto slash = key.find('/');
    for (auto &plan : plans) {
        auto &port = next.ports[plan.id];
        if (!port) {
            auto it = entry.ports.find(plan.id);
            port = it != entry.ports.end() ? it->second : std::make_shared<PortState>();
            port->picker.setOptions(plan.picker);
            port->picker.setBackends(std::move(plan.backends));
        }
        for (auto &listen : plan.listens) {
            const std::string id = listen.kind + "|" + listen.address + "|" + plan.id;
            auto it = entry.listeners.find(id);
            std::shared_ptr<Listener> l = it != entry.listeners.end() ? it->second : std::make_shared<Listener>();
            l->rule.ns = key.substr(0, slash == std::string::npos ? 0 : slash);
            l->rule.service = slash == std::string::npos ? key : key.substr(slash + 1);
            l->rule.portName = plan.name;
            l->rule.port = plan.port;
            l->rule.kind = listen.kind;
            l->rule.listenAddress = listen.address;
            l->rule.clientIPAffinity = plan.picker.clientIPAffinity;
            l->endpoint = listen.endpoint;
            l->fixedError = listen.fixedError;
            l->port = port;
            next.listeners.emplace(id, std::move(l));
        }
    }
    for (auto &[id, l] : entry.listeners)
        if (!next.listeners.count(id))
            closeLocked(*l); // its connections carry on; they hold their own sockets
    for (auto &[id, l] : next.listeners)
        reconcileLocked(l);
    if (next.listeners.empty())
        entries.erase(key);
    else
        entry = std::move(next);
}

void ServiceProxy::Impl::reconcileLocked(const std::shared_ptr<Listener> &listener)
{
    Listener &l = *listener;
    if (!l.fixedError.empty() || l.port->picker.empty()) {
        // No ready endpoint: a closed socket refuses connections at once (kube-proxy's REJECT).
        closeLocked(l);
        l.lastError.clear();
        return;
    }
    if (!l.acceptor)
        openLocked(listener);
}

bool ServiceProxy::Impl::openLocked(const std::shared_ptr<Listener> &listener)
{
    Listener &l = *listener;
    auto a = std::make_shared<tcp::acceptor>(control);
    error_code ec;
    a->open(l.endpoint.protocol(), ec);
    // Only lets a new listener take an address still in TIME_WAIT; a live listener still wins.
    if (!ec)
        a->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
        a->bind(l.endpoint, ec);
    if (!ec)
        a->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        std::string error = "cannot listen on " + l.rule.listenAddress + ": " + ec.message();
        if (ec == net::error::access_denied)
            error += privilegedPortHint(l.endpoint.port());
        if (error != l.lastError)
            PS_LOG(Warning, "proxy") << "service " << l.rule.ns << "/" << l.rule.service << " port " << l.rule.port
                                     << ": " << error << " (retrying)";
        l.lastError = std::move(error);
        return false;
    }
    if (!l.lastError.empty())
        PS_LOG(Info, "proxy") << "service " << l.rule.ns << "/" << l.rule.service << " now listening on "
                              << l.rule.listenAddress;
    l.lastError.clear();
    l.acceptor = a;
    accept(listener, a);
    return true;
}

void ServiceProxy::Impl::closeLocked(Listener &l)
{
    if (!l.acceptor)
        return;
    error_code ignored;
    l.acceptor->close(ignored); // also resets connections still in the backlog
    l.acceptor.reset();
}

void ServiceProxy::Impl::accept(std::shared_ptr<Listener> l, std::shared_ptr<tcp::acceptor> a)
{
    a->async_accept(nextContext().get_executor(), [this, l, a](const error_code &ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !a->is_open()) {
            if (socket.is_open()) // accepted just before the listener closed: refuse it too
                ProxyConnection::reset(socket);
            return;
        }
        if (ec) {
            if (isResourceShortage(ec)) {
                // Out of descriptors: accepting again at once would spin. The client waits in
                // the backlog meanwhile. Logged once per shortage, not every retry.
                if (!l->acceptFailing)
                    PS_LOG(Warning, "proxy") << "accept on " << l->rule.listenAddress << ": " << ec.message()
                                             << " (raise the open files limit, or lower maxConnections)";
                l->acceptFailing = true;
                auto timer = std::make_shared<net::steady_timer>(control, kAcceptRetry);
                timer->async_wait([this, l, a, timer](const error_code &e) {
                    if (!e && a->is_open())
                        accept(l, a);
                });
                return;
            }
            accept(l, a); // the client gave up before we took it: nothing to do
            return;
        }
        l->acceptFailing = false;
        onAccepted(l, std::move(socket));
        accept(l, a);
    });
}

void ServiceProxy::Impl::onAccepted(const std::shared_ptr<Listener> &l, tcp::socket socket)
{
    if (registry->size() >= options.maxConnections) {
        rejected.fetch_add(1, std::memory_order_relaxed);
        PS_LOG(Debug, "proxy") << "too many connections (" << options.maxConnections << "): reset a client of "
                               << l->rule.listenAddress;
        ProxyConnection::reset(socket);
        return;
    }
    error_code ec;
    const std::string clientIP = socket.remote_endpoint(ec).address().to_string();
    if (ec) { // already gone
        ProxyConnection::reset(socket);
        return;
    }
    std::optional<Backend> backend;
    {
        std::lock_guard lock(mutex);
        backend = l->port->picker.pick(clientIP, clock.now());
    }
    if (!backend) { // the last endpoint went away as this client arrived
        ProxyConnection::reset(socket);
        return;
    }
    ProxyConnection::Options o{options.bufferSize, options.connectTimeout, options.zeroCopy};
    std::make_shared<ProxyConnection>(std::move(socket), std::move(*backend), o, l->counters, registry)->start();
}

void ServiceProxy::Impl::scheduleRetry()
{
    retryTimer.expires_after(options.listenRetryInterval);
    retryTimer.async_wait([this](const error_code &ec) {
        if (ec)
            return;
        {
            std::lock_guard lock(mutex);
            if (!running)
                return;
            for (auto &[key, entry] : entries)
                for (auto &[id, l] : entry.listeners)
                    if (!l->acceptor && !l->lastError.empty())
                        reconcileLocked(l);
        }
        scheduleRetry();
    });
}

ServiceProxy::ServiceProxy(controllers::SharedInformers &informers, ServiceProxyOptions options)
    : m_impl(std::make_unique<Impl>(informers, std::move(options)))
{
    std::weak_ptr<Impl::HandlerLink> weak = m_impl->link;
    auto enqueue = [weak](const cache::ObjectPtr &object) {
        if (auto link = weak.lock()) {
            std::lock_guard lock(link->mutex);
            if (link->impl)
                link->impl->enqueue(cache::Indexer::keyOf(*object));
        }
    };
    cache::EventHandlers handlers{enqueue, [enqueue](const cache::ObjectPtr &, const cache::ObjectPtr &o) { enqueue(o); },
                                  enqueue};
    m_impl->services.addEventHandlers(handlers);
    m_impl->endpoints.addEventHandlers(handlers);
}

ServiceProxy::~ServiceProxy()
{
    {
        std::lock_guard lock(m_impl->link->mutex);
        m_impl->link->impl = nullptr;
    }
    stop();
}

Result<void> ServiceProxy::start()
{
    Impl &d = *m_impl;
    std::lock_guard lifecycle(d.lifecycleMutex);
    if (isRunning())
        return {};
    const ServiceProxyOptions &o = d.options;
    if (o.ioThreads < 1 || o.ioThreads > 64)
        return fail(Reason::Invalid, "ioThreads must be between 1 and 64, not " + std::to_string(o.ioThreads));
    if (o.bufferSize < 1024 || o.bufferSize > 16 * 1024 * 1024)
        return fail(Reason::Invalid, "bufferSize must be between 1 KiB and 16 MiB, not " + std::to_string(o.bufferSize));
    if (o.maxConnections < 1)
        return fail(Reason::Invalid, "maxConnections must be at least 1");
    if (o.listenRetryInterval <= std::chrono::milliseconds(0) || o.connectTimeout <= std::chrono::milliseconds(0))
        return fail(Reason::Invalid, "listenRetryInterval and connectTimeout must be positive");
    d.nodeAddresses.clear();
    for (const auto &text : o.nodeAddresses) {
        error_code ec;
        auto address = net::ip::make_address(text, ec);
        if (ec)
            return fail(Reason::Invalid, "node address \"" + text + "\" is not an IP address");
        d.nodeAddresses.push_back(address);
    }

    {
        std::lock_guard lock(d.mutex);
        d.running = true;
        d.drainPosted = false;
    }
    for (auto &io : d.ios) {
        io->restart();
        d.work.push_back(net::make_work_guard(*io));
        d.threads.emplace_back([&io = *io] { io.run(); });
    }
    // Everything the caches hold, and what we served before a stop (it may be gone since).
    std::vector<std::string> keys;
    for (const auto &s : d.services.indexer().list())
        keys.push_back(cache::Indexer::keyOf(*s));
    {
        std::lock_guard lock(d.mutex);
        for (const auto &[key, entry] : d.entries)
            keys.push_back(key);
    }
    for (auto &key : keys)
        d.enqueue(std::move(key));
    {
        std::lock_guard lock(d.mutex);
        if (!d.dirty.empty() && !d.drainPosted) {
            d.drainPosted = true;
            net::post(d.control, [&d] { d.drain(); });
        }
    }
    net::post(d.control, [&d] { d.scheduleRetry(); });
    return {};
}

void ServiceProxy::stop()
{
    Impl &d = *m_impl;
    std::lock_guard lifecycle(d.lifecycleMutex);
    {
        std::lock_guard lock(d.mutex);
        if (!d.running)
            return;
        d.running = false;
    }
    d.work.clear();
    for (auto &io : d.ios)
        io->stop();
    for (auto &t : d.threads)
        t.join();
    d.threads.clear();
    // No thread runs the context now: close everything directly, then let the handlers that
    // this aborted run once here so that they release the connections they hold.
    {
        std::lock_guard lock(d.mutex);
        for (auto &[key, entry] : d.entries)
            for (auto &[id, l] : entry.listeners)
                d.closeLocked(*l);
    }
    d.retryTimer.cancel();
    d.registry->closeAllNow();
    for (auto &io : d.ios) {
        io->restart();
        io->poll();
    }
}

bool ServiceProxy::isRunning() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->running;
}

std::vector<ProxyRule> ServiceProxy::rules() const
{
    std::vector<ProxyRule> out;
    {
        std::lock_guard lock(m_impl->mutex);
        for (const auto &[key, entry] : m_impl->entries)
            for (const auto &[id, l] : entry.listeners) {
                ProxyRule r = l->rule;
                r.readyEndpoints = l->port->picker.backends().size();
                r.listening = l->acceptor != nullptr;
                r.lastError = l->fixedError.empty() ? l->lastError : l->fixedError;
                r.connectionsTotal = l->counters->total.load(std::memory_order_relaxed);
                r.connectionsActive = l->counters->active.load(std::memory_order_relaxed);
                r.connectionsFailed = l->counters->failed.load(std::memory_order_relaxed);
                out.push_back(std::move(r));
            }
    }
    std::sort(out.begin(), out.end(), [](const ProxyRule &a, const ProxyRule &b) {
        return std::tie(a.ns, a.service, a.port, a.portName, a.listenAddress)
             < std::tie(b.ns, b.service, b.port, b.portName, b.listenAddress);
    });
    return out;
}

size_t ServiceProxy::activeConnections() const { return m_impl->registry->size(); }

uint64_t ServiceProxy::rejectedConnections() const { return m_impl->rejected.load(std::memory_order_relaxed); }

} // namespace podscape::core::proxy
