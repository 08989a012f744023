package dev.numbers.ops;

import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1.1 response of the metrics endpoint, always with its length and
 * {@code Connection: close} (one request per connection). Immutable; {@link #bytes} allocates.
 *
 * @param status      the status code; one of those {@link #reason} knows
 * @param contentType the body's media type
 * @param body        the body (UTF-8)
 * @param allow       the {@code Allow} header's value, or empty for none
 */
record HttpResponse(int status, String contentType, String body, String allow) {

    static final String TEXT = "text/plain; charset=utf-8";

    /** A plain-text response, e.g. an error with one line saying what went wrong. */
    static HttpResponse text(int status, String body) {
        return new HttpResponse(status, TEXT, body, "");
    }

    /** The response on the wire; for a HEAD request ({@code headOnly}), its head alone. */
    byte[] bytes(boolean headOnly) {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder(128)
                .append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n")
                .append("Content-Type: ").append(contentType).append("\r\n")
                .append("Content-Length: ").append(content.length).append("\r\n");
        if (!allow.isEmpty()) {
            head.append("Allow: ").append(allow).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.US_ASCII);
        if (headOnly) {
            return headBytes;
        }
        byte[] all = new byte[headBytes.length + content.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(content, 0, all, headBytes.length, content.length);
        return all;
    }

    /** The reason phrase of the statuses this endpoint sends (RFC 9110, RFC 6585 for 431). */
    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 431 -> "Request Header Fields Too Large";
            case 503 -> "Service Unavailable";
            default -> throw new IllegalArgumentException("no reason phrase for status " + status);
        };
    }
}
