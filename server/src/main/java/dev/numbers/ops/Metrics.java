package dev.numbers.ops;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * {@code GET /metrics} (and {@code HEAD}), through the Prometheus Java client: the server's
 * counters, as callbacks over one {@link ServerStatus} snapshot per scrape, and the JVM's and the
 * process's own metrics, in the Prometheus text format, or OpenMetrics when the {@code Accept}
 * header asks for it. Other paths get a 404, other methods a 405 with {@code Allow: GET, HEAD}, a
 * head over {@link #MAX_HEAD_BYTES} a 431, anything not HTTP/1 a 400; each response closes its
 * connection. Netty's {@code HttpServerCodec} parses the request; {@link SidePorts} keeps the
 * bounds. The registry is made at the first scrape, so that a start loads none of the client.
 *
 * <p>The side ports' loop thread only. Allocates each response.
 */
final class Metrics {

    /** The largest request head answered, half of it request line, half headers: a scraper sends a few hundred bytes. */
    static final int MAX_HEAD_BYTES = 8 * 1024;
    private static final String TEXT = "text/plain; charset=utf-8";

    private final Supplier<ServerStatus> status;
    private final boolean jvmMetrics;
    private PrometheusRegistry registry;
    /** The snapshot the callbacks read: taken once per scrape, just before it. */
    private ServerStatus scraped;

    /** @param jvmMetrics the JVM's and the process's own metrics too (tests leave them out) */
    Metrics(Supplier<ServerStatus> status, boolean jvmMetrics) {
        this.status = status;
        this.jvmMetrics = jvmMetrics;
    }

    /** A connection's handlers, after its guard. */
    ChannelHandler[] handlers(Guard guard) {
        HttpDecoderConfig head = new HttpDecoderConfig().setMaxInitialLineLength(MAX_HEAD_BYTES / 2)
                .setMaxHeaderSize(MAX_HEAD_BYTES / 2);
        return new ChannelHandler[] {new HttpServerCodec(head), new Exchange(guard)};
    }

    /** What a client is told before the guard closes it for {@code reason}. */
    static Object lastWord(SidePorts.Closing reason) {
        return reason == SidePorts.Closing.REFUSED
                ? text(HttpResponseStatus.SERVICE_UNAVAILABLE, "too many connections; try again later\n")
                : text(HttpResponseStatus.REQUEST_TIMEOUT, "request not received in time\n");
    }

    /** The answer to a request head; a HEAD request's goes without its body (the codec sees to it). */
    private FullHttpResponse answer(HttpRequest request) {
        if (request.decoderResult().isFailure() || request.protocolVersion().majorVersion() != 1) {
            return request.decoderResult().cause() instanceof TooLongFrameException
                    ? text(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head over " + MAX_HEAD_BYTES + " bytes\n")
                    : text(HttpResponseStatus.BAD_REQUEST, "not an HTTP/1.1 request\n");
        }
        if (!new QueryStringDecoder(request.uri()).path().equals("/metrics")) {
            return text(HttpResponseStatus.NOT_FOUND, "not found: try /metrics\n");
        }
        if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            FullHttpResponse response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n");
            response.headers().set("Allow", "GET, HEAD");
            return response;
        }
        ExpositionFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();
        ExpositionFormatWriter writer = openMetrics.accepts(request.headers().get(HttpHeaderNames.ACCEPT))
                ? openMetrics : PrometheusTextFormatWriter.create();
        PrometheusRegistry metrics = registry();
        scraped = status.get();
        ByteBuf body = Unpooled.buffer();
        try {
            writer.write(new ByteBufOutputStream(body), metrics.scrape());
        } catch (IOException e) {
            body.release();
            throw new UncheckedIOException(e); // a buffer in memory does not fail: a defect, which the guard reports
        }
        return response(HttpResponseStatus.OK, writer.getContentType(), body);
    }

    /** The registry, made at the first scrape: today's metrics over {@link #scraped}, then the JVM's. */
    private PrometheusRegistry registry() {
        if (registry == null) {
            registry = new PrometheusRegistry();
            CounterWithCallback.builder().name("numbers_received_total").help("Valid number lines received, by outcome.")
                    .labelNames("outcome").callback(callback -> {
                        callback.call(scraped.uniqueTotal(), "unique");
                        callback.call(scraped.duplicateTotal(), "duplicate");
                    }).register(registry);
            counter("numbers_invalid_connections_total", "Connections closed for invalid input.", ServerStatus::invalidClosed);
            gauge("numbers_clients_connected", "Number clients connected now.", ServerStatus::clientsConnected);
            counter("numbers_log_bytes_written_total", "Bytes appended to the log.", ServerStatus::logBytes);
            counter("numbers_log_fsyncs_total", "Forces of the log to disk.", ServerStatus::fsyncs);
            counter("numbers_log_fsync_seconds_total", "Time spent forcing the log to disk.", s -> s.fsyncNanos() / 1e9);
            gauge("numbers_log_write_failing", "1 while a write or fsync of the log fails and is retried.",
                    s -> s.logFailing() ? 1 : 0);
            if (jvmMetrics) {
                JvmMetrics.builder().register(registry);
            }
        }
        return registry;
    }

    private void counter(String name, String help, ToDoubleFunction<ServerStatus> value) {
        CounterWithCallback.builder().name(name).help(help)
                .callback(callback -> callback.call(value.applyAsDouble(scraped))).register(registry);
    }

    private void gauge(String name, String help, ToDoubleFunction<ServerStatus> value) {
        GaugeWithCallback.builder().name(name).help(help)
                .callback(callback -> callback.call(value.applyAsDouble(scraped))).register(registry);
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        return response(status, TEXT, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, ByteBuf body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers().set("Content-Type", contentType).setInt("Content-Length", body.readableBytes())
                .set("Connection", HttpHeaderValues.CLOSE);
        return response;
    }

    /** One connection's exchange: its request answered once, as soon as the head is whole; a body is never read. */
    private final class Exchange extends SimpleChannelInboundHandler<HttpObject> {
        private final Guard guard;

        Exchange(Guard guard) {
            this.guard = guard;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject message) {
            if (message instanceof HttpRequest request) {
                guard.completed();
                guard.finish(answer(request));
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) { // the client's end of stream
                guard.finish(guard.requestUnderWay() ? text(HttpResponseStatus.BAD_REQUEST, "request cut short\n") : null);
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            guard.exceptionCaught(ctx, cause);
        }
    }
}
