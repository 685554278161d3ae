// The only translation unit that sees Asio: connections, lanes, timeouts and
// shutdown. Requests are read with Beast, converted in beast_message.cpp and
// routed by dispatch.cpp (shared with the in-process fuzz target); everything
// above speaks http::Request/Response.
//
// Threads (docs/ARCHITECTURE.md): one io_context per io thread, run by that
// thread alone, and each connection pinned to one of them. Beast requires a
// stream's asynchronous operations (its reads, writes and timeout timer) not
// to run concurrently; since every handler of a connection runs on its one
// thread, they cannot, with no strand needed.
#include "http/server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <memory>
#include <thread>
#include <type_traits>

#include "core/log.hpp"
#include "core/thread_name.hpp"
#include "db/pipelined_connection.hpp"
#include "http/beast_message.hpp"
#include "http/dispatch.hpp"
#include "http/framing.hpp"
#include "http/metrics.hpp"

namespace http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

// Each keep-alive client holds a descriptor. The soft limit is often 1024
// while the hard one is far higher, so take the hard one (as nginx and Go
// do); if even that runs out, the accept loop pauses instead of spinning.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) core::log::warn("cannot raise the open-file limit");
}

// Beast knows a fixed set of verbs; any other method shares one metrics label
// so a client cannot mint new series by inventing methods.
std::string method_label(const BeastRequest& request) {
  if (request.method() == bhttp::verb::unknown) return "OTHER";
  return std::string(request.method_string());
}

// Adds one to `counter` for its lifetime, so neither an exception nor an
// early co_return can leave a count of work in progress too high.
class CountedScope {
 public:
  explicit CountedScope(std::atomic<int>& counter)
      : counter_(counter), before_(counter.fetch_add(1)) {}
  ~CountedScope() { --counter_; }
  CountedScope(const CountedScope&) = delete;
  CountedScope& operator=(const CountedScope&) = delete;

  // How many were counted when this one joined.
  int ahead() const { return before_; }

 private:
  std::atomic<int>& counter_;
  const int before_;
};

// Runs `work` on `pool` and resumes the awaiting coroutine on its own
// executor (the connection's io thread), so io threads never block on the
// database or on hashing. An exception `work` throws is rethrown in the
// coroutine rather than ending the pool thread (and the process).
template <class Work, class Result = std::invoke_result_t<Work&>>
asio::awaitable<Result> run_on(asio::thread_pool& pool, Work work) {
  // GCC 12 destroys the initiation lambda below, a temporary of the co_await
  // expression, twice: a `work` owning memory was freed twice (ASan).
  static_assert(std::is_trivially_destructible_v<Work>,
                "run_on's work may capture references and pointers only");
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(std::exception_ptr, Result)>(
      [&pool, executor, work = std::move(work)](auto handler) mutable {
        asio::post(pool,
                   [executor, work = std::move(work), handler = std::move(handler)]() mutable {
                     std::exception_ptr failure;
                     Result response{};
                     try {
                       response = work();
                     } catch (...) {
                       failure = std::current_exception();
                     }
                     asio::dispatch(executor, [handler = std::move(handler), failure,
                                               response = std::move(response)]() mutable {
                       std::move(handler)(failure, std::move(response));
                     });
                   });
      },
      asio::use_awaitable);
}

struct PipelineCounts {
  std::atomic<long long> answered{0};
  std::atomic<long long> fallbacks{0};
};

PipelineCounts& pipeline_counts() {
  static PipelineCounts counts;
  static const bool collected = [] {
    metrics().add_collector([](std::string& out) {
      append_metric(out, "db_pipelined_reads_total", "counter",
                    "Reads answered through an io thread's pipelined PostgreSQL connection.",
                    static_cast<double>(counts.answered.load()));
      append_metric(
          out, "db_pipelined_read_fallbacks_total", "counter",
          "Planned pipelined reads run on the db lane instead (no connection, or it failed them).",
          static_cast<double>(counts.fallbacks.load()));
    });
    return true;
  }();
  static_cast<void>(collected);
  return counts;
}

// One io thread's pipelined PostgreSQL connection (docs/ARCHITECTURE.md,
// "Pipelined reads"), used by that thread alone. It connects on first use
// and again after a failure, at most once a second, on the db lane since
// connecting blocks; until it is up, and for every read it fails, the
// route's handler runs on the db lane as if there were no pipeline.
class PipelinedReads {
 public:
  PipelinedReads(asio::io_context& io, asio::thread_pool& connect_pool, std::string url)
      : io_(io), connect_pool_(connect_pool), url_(std::move(url)), descriptor_(io) {}
  ~PipelinedReads() { drop(); }
  PipelinedReads(const PipelinedReads&) = delete;
  PipelinedReads& operator=(const PipelinedReads&) = delete;

  // The rows, or nullopt: read another way.
  asio::awaitable<std::optional<db::ResultRows>> read(const db::PipelinedQuery& query) {
    const auto kept_alive = usable();
    if (!kept_alive) co_return std::nullopt;
    // The initiation captures no owner (a shared_ptr, a string): GCC 12
    // destroys a temporary of a co_await expression twice, and ASan caught
    // the double free of a captured string and a connection freed early.
    auto* connection = kept_alive.get();
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                            void(std::optional<db::ResultRows>)>(
        [this, &query, connection](auto handler) {
          auto waiting = std::make_shared<decltype(handler)>(std::move(handler));
          // Resumed from the queue, not inside the connection's read loop.
          connection->send(query, [&io = io_, waiting](std::optional<db::ResultRows> rows) {
            auto result = std::make_shared<std::optional<db::ResultRows>>(std::move(rows));
            asio::post(io, [waiting, result] { std::move (*waiting)(std::move(*result)); });
          });
          sync_after_this_turn();
        },
        asio::use_awaitable);
  }

 private:
  using Clock = std::chrono::steady_clock;
  // More reads than this waiting on one connection go to the db lane.
  static constexpr std::size_t kMostInFlight = 256;
  static constexpr auto kStalledAfter = std::chrono::seconds(2);

  std::shared_ptr<db::PipelinedConnection> usable() {
    if (connection_ && connection_->broken()) drop();
    if (connection_) return connection_->pending() < kMostInFlight ? connection_ : nullptr;
    if (!connecting_ && Clock::now() >= next_attempt_) {
      connecting_ = true;
      asio::co_spawn(io_, connect(), asio::detached);
    }
    return nullptr;
  }

  asio::awaitable<void> connect() {
    std::shared_ptr<db::PipelinedConnection> fresh;
    try {
      // Captures nothing that owns memory (run_on's static_assert).
      fresh = co_await run_on(connect_pool_,
                              [this] { return std::make_shared<db::PipelinedConnection>(url_); });
    } catch (const std::exception& error) {
      core::log::warn(error.what());
    }
    connecting_ = false;
    next_attempt_ = Clock::now() + std::chrono::seconds(1);
    if (!fresh) co_return;
    connection_ = fresh;
    descriptor_.assign(fresh->socket());
    asio::co_spawn(io_, watch(fresh), asio::detached);
    asio::co_spawn(io_, guard_against_stalls(fresh), asio::detached);
  }

  // A backend that stops answering (stopped, or a network that drops
  // packets without a reset) would hold every read sent to it; after
  // kStalledAfter without a result while reads wait, they fail over to the
  // db lane and the next read connects again.
  asio::awaitable<void> guard_against_stalls(std::shared_ptr<db::PipelinedConnection> connection) {
    asio::steady_timer tick(io_);
    auto results_before = connection->results_received();
    auto quiet_since = Clock::now();
    while (connection == connection_ && !connection->broken()) {
      tick.expires_after(std::chrono::milliseconds(250));
      co_await tick.async_wait(kNoThrow);
      const auto results = connection->results_received();
      if (results != results_before || connection->pending() == 0) {
        results_before = results;
        quiet_since = Clock::now();
      } else if (Clock::now() - quiet_since >= kStalledAfter) {
        core::log::warn("pipelined reads: no answer for " + std::to_string(kStalledAfter.count()) +
                        " s; reads go to the pool");
        connection->abandon();
      }
    }
  }

  // The connection owns its socket: the descriptor only watches it.
  void drop() {
    if (descriptor_.is_open()) descriptor_.release();
    connection_.reset();
  }

  asio::awaitable<void> watch(std::shared_ptr<db::PipelinedConnection> connection) {
    while (connection == connection_ && !connection->broken()) {
      auto [ec] =
          co_await descriptor_.async_wait(asio::posix::stream_descriptor::wait_read, kNoThrow);
      if (ec || connection != connection_) co_return;
      connection->on_readable();
      start_writing();
    }
  }

  // The reads the requests of one turn of the event loop queued go out
  // together, after the handlers already queued have run.
  void sync_after_this_turn() {
    if (sync_posted_) return;
    sync_posted_ = true;
    asio::post(io_, [this] {
      sync_posted_ = false;
      if (!connection_) return;
      connection_->sync();
      start_writing();
    });
  }

  void start_writing() {
    if (writing_ || !connection_ || !connection_->wants_write()) return;
    writing_ = true;
    asio::co_spawn(io_, write(connection_), asio::detached);
  }

  asio::awaitable<void> write(std::shared_ptr<db::PipelinedConnection> connection) {
    while (connection == connection_ && connection->wants_write()) {
      auto [ec] =
          co_await descriptor_.async_wait(asio::posix::stream_descriptor::wait_write, kNoThrow);
      if (ec) break;
      connection->on_writable();
    }
    writing_ = false;
  }

  asio::io_context& io_;
  asio::thread_pool& connect_pool_;
  const std::string url_;
  asio::posix::stream_descriptor descriptor_;
  std::shared_ptr<db::PipelinedConnection> connection_;
  bool connecting_ = false;
  bool writing_ = false;
  bool sync_posted_ = false;
  Clock::time_point next_attempt_{};
};

// What a connection's failure log line can name, and its io thread's pipelined reads.
struct ConnectionTrace {
  std::string peer;
  std::string request_id;  // of the request being served, once it is known
  PipelinedReads* reads = nullptr;  // the io thread's, when reads are pipelined
  // Where the request being served was answered, for the access log: "io"
  // (no database), "pipelined" (the io thread's pipelined read), or the lane
  // its handler ran on ("db", "write", "cpu").
  const char* answered_on = "io";
};

class Server {
 public:
  Server(const ServerOptions& options, const Router& router)
      : options_(options),
        router_(router),
        db_pool_(static_cast<std::size_t>(options.db_threads)),
        write_pool_(static_cast<std::size_t>(options.write_threads)),
        cpu_pool_(static_cast<std::size_t>(options.cpu_threads)) {
    for (int i = 0; i < std::max(1, options.io_threads); ++i) {
      io_contexts_.push_back(std::make_unique<asio::io_context>(1));
      if (!options.pipelined_reads_url.empty()) {
        pipeline_counts();  // its metrics appear where reads are pipelined
        pipelined_reads_.push_back(std::make_unique<PipelinedReads>(*io_contexts_.back(), db_pool_,
                                                                    options.pipelined_reads_url));
      }
    }
  }

  void run(const std::function<void(int)>& on_listening) {
    raise_descriptor_limit();
    // The accept loop and the signal handler both touch the acceptor, so they
    // share a single-threaded context of their own (closing the acceptor
    // while another thread started the next accept crashed on SIGTERM).
    tcp::acceptor acceptor(accept_io_);
    const auto endpoint = resolve_endpoint();
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);

    asio::co_spawn(accept_io_, accept_loop(acceptor), asio::detached);
    asio::signal_set signals(accept_io_, SIGINT, SIGTERM);
    signals.async_wait([this, &acceptor](const beast::error_code& ec, int) {
      if (!ec) begin_shutdown(acceptor);
    });
    // Only now: a SIGTERM sent as soon as the port is announced is handled.
    on_listening(acceptor.local_endpoint().port());

    std::vector<std::thread> io_threads;
    for (auto& io : io_contexts_) {
      io_threads.emplace_back([&io] {
        core::name_this_thread("http-io");
        auto keep_running = asio::make_work_guard(*io);  // it idles between connections
        io->run();
      });
    }
    accept_io_.run();
    for (auto& thread : io_threads) thread.join();
    db_pool_.join();
    write_pool_.join();
    cpu_pool_.join();
  }

 private:
  tcp::endpoint resolve_endpoint() {
    tcp::resolver resolver(accept_io_);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
    return results.begin()->endpoint();
  }

  void begin_shutdown(tcp::acceptor& acceptor) {
    core::log::info("shutdown requested: finishing in-flight requests");
    draining_ = true;
    beast::error_code ignored;
    acceptor.close(ignored);
    const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_timeout;
    asio::co_spawn(accept_io_, wait_for_drain(deadline), asio::detached);
  }

  // Runs on accept_io_. Stopping the io contexts abandons the idle
  // keep-alive connections and any request past the deadline.
  asio::awaitable<void> wait_for_drain(std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer timer(accept_io_);
    while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kNoThrow);
    }
    if (in_flight_ > 0) core::log::warn("shutdown timeout: abandoning in-flight requests");
    for (auto& io : io_contexts_) io->stop();
    accept_io_.stop();
  }

  // Round robin over the io threads: a connection stays on the one it gets.
  std::size_t next_io_thread() {
    next_io_ = (next_io_ + 1) % io_contexts_.size();
    return next_io_;
  }

  // Runs on accept_io_; each connection it accepts is served on one io context.
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    asio::steady_timer pause(accept_io_);
    while (acceptor.is_open()) {
      const auto thread = next_io_thread();
      auto& io = *io_contexts_[thread];
      auto [ec, socket] = co_await acceptor.async_accept(io, kNoThrow);
      if (ec) {
        if (!acceptor.is_open()) break;
        // e.g. EMFILE: keep serving the connections we have, without spinning.
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(kNoThrow);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto* reads = pipelined_reads_.empty() ? nullptr : pipelined_reads_[thread].get();
      asio::co_spawn(io, serve_connection(std::move(socket), reads), asio::detached);
    }
  }

  // Nothing may escape a detached coroutine unseen: a failure is logged with
  // the request it happened in, and the connection closes.
  // `reads`: the io thread's pipelined connection, or null.
  asio::awaitable<void> serve_connection(tcp::socket socket, PipelinedReads* reads) {
    beast::error_code ec;
    ConnectionTrace trace{socket.remote_endpoint(ec).address().to_string(), {}, reads};
    try {
      co_await serve_requests(std::move(socket), trace);
    } catch (const std::exception& error) {
      log_connection_failure(trace, error.what());
    } catch (...) {
      log_connection_failure(trace, "an exception of unknown type");
    }
  }

  static void log_connection_failure(const ConnectionTrace& trace, std::string_view detail) {
    core::log::event("error", {{"msg", "connection failed"},
                               {"peer", trace.peer},
                               {"request_id", trace.request_id},
                               {"detail", detail}});
  }

  asio::awaitable<void> serve_requests(tcp::socket socket, ConnectionTrace& trace) {
    beast::error_code ec;
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    while (!draining_) {
      // A quiet keep-alive connection may idle longer than a request may take to arrive.
      if (buffer.size() == 0) {
        stream.expires_after(options_.idle_timeout);
        auto [read_ec, bytes] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
        if (read_ec) break;
        buffer.commit(bytes);
      }
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      stream.expires_after(options_.read_timeout);
      if (!co_await read_header_bytes(stream, buffer)) break;
      if (auto refusal = refuse_raw_header(buffered(buffer), options_.middleware)) {
        co_await write(stream, std::move(*refusal), false);
        break;
      }
      auto [read_ec, ignored_bytes] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
      if (read_ec == bhttp::error::end_of_stream || read_ec == beast::error::timeout ||
          read_ec == asio::error::eof || read_ec == asio::error::connection_reset) {
        break;
      }
      if (read_ec) {
        co_await write(stream, read_error_response(read_ec, options_.middleware), false);
        break;
      }
      // The read deadline stays set while the handler works; Beast's timer
      // only runs during a read or write, and the write sets its own.
      const CountedScope in_flight(in_flight_);
      if (!co_await handle(stream, parser.get(), trace)) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  static std::string_view buffered(const beast::flat_buffer& buffer) {
    return {static_cast<const char*>(buffer.data().data()), buffer.size()};
  }

  // Reads until `buffer` holds the next request's whole header, or more
  // bytes than the header limit (Beast's parser then answers 431), so the
  // raw lines can be checked before Beast unfolds them. False when the peer
  // left or the read timer ran out.
  asio::awaitable<bool> read_header_bytes(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    while (header_end(buffered(buffer)) == std::string_view::npos && buffer.size() <= options_.max_header_bytes) {
      auto [ec, bytes] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
      if (ec) co_return false;
      buffer.commit(bytes);
    }
    co_return true;
  }

  asio::awaitable<bool> handle(beast::tcp_stream& stream, BeastRequest& beast_request,
                               ConnectionTrace& trace) {
    const auto started = std::chrono::steady_clock::now();
    const bool wants_keep_alive = beast_request.keep_alive();
    const auto metric_method = method_label(beast_request);
    trace.request_id.clear();
    auto accepted = accept_request(beast_request, trace.peer, options_.middleware);
    if (auto* refusal = std::get_if<Response>(&accepted)) {
      co_await write(stream, std::move(*refusal), false);
      co_return false;
    }
    auto& request = std::get<Request>(accepted);
    trace.request_id = request.request_id;
    auto routed = route_request(router_, request, options_.middleware);
    Response response;
    trace.answered_on = "io";
    if (routed.answer) {
      response = std::move(*routed.answer);
    } else {
      response = co_await run_on_lane(*routed.route, request, trace);
    }
    finish_response(response, request, options_.middleware);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    metrics().observe_request(routed.name, metric_method, response.status,
                              std::chrono::duration<double>(elapsed).count());
    log_access(request, {routed.name, trace.answered_on}, response, elapsed);
    // Decided after the work: a shutdown that began meanwhile closes the connection.
    const bool keep_alive = wants_keep_alive && !draining_;
    if (response.stream) co_return co_await write_streamed(stream, std::move(response), keep_alive) && keep_alive;
    co_return co_await write(stream, std::move(response), keep_alive) && keep_alive;
  }

  asio::awaitable<Response> run_on_lane(const Route& route, Request& request,
                                        ConnectionTrace& trace) {
    if (trace.reads && route.plan_read) {
      if (auto answer = co_await run_pipelined(route, request, trace)) co_return std::move(*answer);
    }
    const auto lane = route.choose_lane ? route.choose_lane(request) : route.lane;
    if (lane != Lane::io) {
      if (auto refusal = router_.refuse_bad_token(route, request)) co_return std::move(*refusal);
    }
    switch (lane) {
      case Lane::io: {
        // A lane chooser's guess can turn out wrong by the time the handler
        // runs (e.g. a session revoked in between): it asks for the db lane.
        request.on_io_thread = true;
        auto response = router_.run(route, request);
        request.on_io_thread = false;
        if (!response.retry_on_database) co_return response;
        trace.answered_on = "db";
        co_return co_await run_on(db_pool_, [&] { return router_.run(route, request); });
      }
      case Lane::db:
        trace.answered_on = "db";
        co_return co_await run_on(db_pool_, [&] { return router_.run(route, request); });
      case Lane::write:
        trace.answered_on = "write";
        co_return co_await run_on(write_pool_, [&] { return router_.run(route, request); });
      case Lane::cpu:
        co_return co_await run_on_cpu(route, request, trace);
    }
    co_return Response::error(500, "internal_error", "Something went wrong on our side.");
  }

  // The route's read planned and sent on the io thread; nullopt when its
  // handler must run on the db lane after all.
  asio::awaitable<std::optional<Response>> run_pipelined(const Route& route, Request& request,
                                                         ConnectionTrace& trace) {
    request.on_io_thread = true;
    auto planned = router_.plan(route, request);
    request.on_io_thread = false;
    if (planned.answer) co_return std::move(planned.answer);
    if (!planned.read) co_return std::nullopt;
    auto rows = co_await trace.reads->read(planned.read->query);
    if (!rows) {
      ++pipeline_counts().fallbacks;
      co_return std::nullopt;
    }
    ++pipeline_counts().answered;
    trace.answered_on = "pipelined";
    co_return router_.answer(route, request, *planned.read, *rows);
  }

  // The hashing pool is small; a bounded queue turns a login storm into
  // quick 503s instead of an ever-growing backlog.
  asio::awaitable<Response> run_on_cpu(const Route& route, Request& request,
                                       ConnectionTrace& trace) {
    const CountedScope queued(cpu_queued_);
    if (queued.ahead() >= options_.cpu_queue_limit) {
      auto busy = Response::error(503, "server_busy", "Too many password checks at once; retry shortly.");
      busy.set_header("Retry-After", "1");
      co_return busy;
    }
    trace.answered_on = "cpu";
    co_return co_await run_on(cpu_pool_, [&] { return router_.run(route, request); });
  }

  asio::awaitable<bool> write(beast::tcp_stream& stream, Response response, bool keep_alive) {
    auto message = to_beast(std::move(response), keep_alive);
    stream.expires_after(options_.read_timeout);
    auto [ec, bytes] = co_await bhttp::async_write(stream, message, kNoThrow);
    co_return !ec;
  }

  // The header, then one chunk per part the stream makes on the db lane: at
  // most one part is held at a time, whatever the body's size.
  asio::awaitable<bool> write_streamed(beast::tcp_stream& stream, Response response, bool keep_alive) {
    auto parts = std::move(response.stream);
    auto header = to_beast_header(std::move(response), keep_alive);
    bhttp::response_serializer<bhttp::empty_body> serializer(header);
    stream.expires_after(options_.read_timeout);
    auto [header_ec, header_bytes] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);
    if (header_ec) co_return false;
    for (bool more = true; more;) {
      std::string chunk;
      try {
        more = co_await run_on(db_pool_, [&] { return parts(chunk); });
      } catch (const std::exception& error) {
        core::log::error(std::string("streamed body failed: ") + error.what());
        co_return false;
      }
      if (chunk.empty()) continue;
      stream.expires_after(options_.read_timeout);
      auto [ec, bytes] = co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(chunk)), kNoThrow);
      if (ec) co_return false;
    }
    auto [ec, bytes] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kNoThrow);
    co_return !ec;
  }

  const ServerOptions& options_;
  const Router& router_;
  std::vector<std::unique_ptr<asio::io_context>> io_contexts_;  // one per io thread
  std::size_t next_io_ = 0;                                     // only the accept loop uses it
  // Declared after io_contexts_, so destroyed before them: an accept still
  // pending at shutdown holds a socket of one of them (ASan saw the
  // use-after-free with the opposite order).
  asio::io_context accept_io_{1};
  asio::thread_pool db_pool_;
  asio::thread_pool write_pool_;
  asio::thread_pool cpu_pool_;
  // One per io thread, in io_contexts_'s order (empty when off); declared
  // after the pools and io contexts it uses, so destroyed before them.
  std::vector<std::unique_ptr<PipelinedReads>> pipelined_reads_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> cpu_queued_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace

void serve(const ServerOptions& options, const Router& router,
           const std::function<void(int port)>& on_listening) {
  Server server(options, router);
  server.run(on_listening);
}

}  // namespace http
