package dev.numbers.ops;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * One metrics connection's side of HTTP/1.1, as little of it as a scrape needs: collects the
 * request head (request line and headers, up to {@link #MAX_HEAD_BYTES}), checks its shape,
 * answers once through a handler of (method, path), and finishes: one request per connection,
 * {@code Connection: close}. Headers are checked for shape and otherwise ignored; a body is never
 * read (GET and HEAD have none; others get a 405). A head too large gets a 431, a garbled one or
 * one cut short by the end of the stream a 400.
 *
 * <p>The metrics loop's thread only. Holds one head buffer per connection; allocates per request.
 */
final class HttpSession implements Protocol.Session {

    /** The largest request head answered: a scraper sends a few hundred bytes. */
    static final int MAX_HEAD_BYTES = 8 * 1024;
    /** A method is a token (RFC 9110, section 5.6.2). */
    private static final Pattern METHOD = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern VERSION = Pattern.compile("HTTP/1\\.[01]");
    private static final Pattern LINE_END = Pattern.compile("\r?\n");

    private final Connection connection;
    private final BiFunction<String, String, HttpResponse> handler;
    private final byte[] head = new byte[MAX_HEAD_BYTES];
    private int length;

    /** A session that answers a well-formed request with {@code handler(method, path)}. */
    HttpSession(Connection connection, BiFunction<String, String, HttpResponse> handler) {
        this.connection = connection;
        this.handler = handler;
    }

    @Override
    public void received(ByteBuffer input, long nowNanos) {
        connection.requestStarted(nowNanos);
        while (input.hasRemaining() && !connection.finishing()) {
            if (length == head.length) {
                respond(HttpResponse.text(431, "request head over " + MAX_HEAD_BYTES + " bytes\n"), false);
                return;
            }
            byte b = input.get();
            head[length++] = b;
            if (b == '\n' && headEnds()) {
                connection.requestCompleted(nowNanos);
                answer();
            }
        }
    }

    @Override
    public void ended(long nowNanos) {
        if (length > 0) {
            respond(HttpResponse.text(400, "request cut short\n"), false);
        }
    }

    /** True if the {@code \n} just stored ends an empty line: {@code \n\n} or {@code \n\r\n}. */
    private boolean headEnds() {
        return length >= 2 && head[length - 2] == '\n'
                || length >= 3 && head[length - 2] == '\r' && head[length - 3] == '\n';
    }

    private void answer() {
        String[] lines = LINE_END.split(new String(head, 0, length, StandardCharsets.ISO_8859_1));
        int first = 0;
        while (first < lines.length && lines[first].isEmpty()) {
            first++; // RFC 9112, section 2.2: empty lines before the request line are ignored
        }
        String[] request = first < lines.length ? lines[first].split(" ", -1) : new String[0];
        boolean wellFormed = request.length == 3 && METHOD.matcher(request[0]).matches()
                && !request[1].isEmpty() && VERSION.matcher(request[2]).matches();
        for (int i = first + 1; wellFormed && i < lines.length; i++) {
            wellFormed = lines[i].indexOf(':') > 0;
        }
        if (!wellFormed) {
            respond(HttpResponse.text(400, "not an HTTP/1.1 request\n"), false);
            return;
        }
        respond(handler.apply(request[0], path(request[1])), request[0].equals("HEAD"));
    }

    /** The path of a request target: origin form ({@code /metrics?x}) or absolute ({@code http://h/metrics}). */
    private static String path(String target) {
        int scheme = target.indexOf("://");
        String path = target;
        if (!target.startsWith("/") && scheme > 0) {
            int slash = target.indexOf('/', scheme + 3);
            path = slash < 0 ? "/" : target.substring(slash);
        }
        int query = path.indexOf('?');
        return query < 0 ? path : path.substring(0, query);
    }

    private void respond(HttpResponse response, boolean headOnly) {
        connection.send(response.bytes(headOnly));
        connection.finish();
    }
}
